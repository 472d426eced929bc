import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The registry proper: one row per translation (tenant, name, language) with its current and its
 * live (submitted) content, every content version, a history of everything that happened to it,
 * and the log of management API calls that the per-WABA budget counts.
 */
export class Registry1764300000000 implements MigrationInterface {
  name = 'Registry1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "templates"."translation" (
        "id" uuid NOT NULL PRIMARY KEY,
        "tenant_id" text NOT NULL,
        "waba_id" text NOT NULL,
        "name" text NOT NULL,
        "language" text NOT NULL,
        "category" text NOT NULL,
        "parameter_format" text NOT NULL,
        "version" int NOT NULL,
        "components" jsonb NOT NULL,
        "parameters" jsonb NOT NULL,
        "live_version" int,
        "live_components" jsonb,
        "live_parameters" jsonb,
        "status" text NOT NULL,
        "status_changed_at" timestamptz NOT NULL,
        "meta_event_at" timestamptz,
        "reason" text,
        "reason_detail" text,
        "quality_score" text,
        "meta_template_id" text,
        "submission_state" text NOT NULL DEFAULT 'none',
        "submit_attempts" int NOT NULL DEFAULT 0,
        "next_submit_at" timestamptz,
        "last_submit_error" text,
        "source" text NOT NULL,
        "created_by" text NOT NULL,
        "updated_by" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "translation_key" UNIQUE ("tenant_id", "name", "language"),
        CONSTRAINT "translation_submission_state" CHECK ("submission_state" IN ('none', 'queued', 'submitted', 'failed'))
      )`);
    await queryRunner.query(
      `CREATE INDEX "translation_due_idx" ON "templates"."translation" ("next_submit_at") WHERE "submission_state" = 'queued'`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "translation_meta_id_idx" ON "templates"."translation" ("tenant_id", "meta_template_id") WHERE "meta_template_id" IS NOT NULL`,
    );
    // No foreign keys to translation: versions and history outlive a deleted translation.
    await queryRunner.query(`
      CREATE TABLE "templates"."translation_version" (
        "translation_id" uuid NOT NULL,
        "version" int NOT NULL,
        "tenant_id" text NOT NULL,
        "category" text NOT NULL,
        "parameter_format" text NOT NULL,
        "components" jsonb NOT NULL,
        "created_by" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("translation_id", "version")
      )`);
    await queryRunner.query(`
      CREATE TABLE "templates"."translation_history" (
        "id" bigserial PRIMARY KEY,
        "translation_id" uuid,
        "tenant_id" text NOT NULL,
        "name" text NOT NULL,
        "language" text NOT NULL,
        "kind" text NOT NULL,
        "from_value" text,
        "to_value" text,
        "reason" text,
        "detail" jsonb,
        "actor" text NOT NULL,
        "event_id" text,
        "occurred_at" timestamptz NOT NULL,
        "recorded_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX "translation_history_key_idx" ON "templates"."translation_history" ("tenant_id", "name", "language", "id")`,
    );
    await queryRunner.query(`
      CREATE TABLE "templates"."management_call" (
        "id" bigserial PRIMARY KEY,
        "waba_id" text NOT NULL,
        "kind" text NOT NULL,
        "called_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX "management_call_window_idx" ON "templates"."management_call" ("waba_id", "called_at")`);
    // Catalog deletions are tombstones (null values) on the compacted catalog topic.
    await queryRunner.query(`ALTER TABLE "templates"."outbox" ALTER COLUMN "value" DROP NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM "templates"."outbox" WHERE "value" IS NULL`);
    await queryRunner.query(`ALTER TABLE "templates"."outbox" ALTER COLUMN "value" SET NOT NULL`);
    await queryRunner.query(`DROP TABLE "templates"."management_call"`);
    await queryRunner.query(`DROP TABLE "templates"."translation_history"`);
    await queryRunner.query(`DROP TABLE "templates"."translation_version"`);
    await queryRunner.query(`DROP TABLE "templates"."translation"`);
  }
}
