import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DedupeAndMedia1764201600000 implements MigrationInterface {
  name = 'DedupeAndMedia1764201600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "ingress"."webhook_dedupe" (
        "tenant_id" text NOT NULL,
        "kind" text NOT NULL CHECK ("kind" IN ('message', 'status', 'account', 'quarantine')),
        "dedupe_key" text NOT NULL,
        "event_id" uuid NOT NULL,
        "raw_event_id" uuid NOT NULL,
        "first_seen_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("tenant_id", "kind", "dedupe_key")
      )`);
    await queryRunner.query(`CREATE INDEX "webhook_dedupe_first_seen_idx" ON "ingress"."webhook_dedupe" ("first_seen_at")`);
    await queryRunner.query(`
      CREATE TABLE "ingress"."media" (
        "tenant_id" text NOT NULL,
        "media_id" text NOT NULL,
        "mime_type" text NOT NULL,
        "sha256" text NOT NULL,
        "file_size" bigint NOT NULL,
        "filename" text,
        "content" bytea NOT NULL,
        "fetched_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("tenant_id", "media_id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "ingress"."media"`);
    await queryRunner.query(`DROP TABLE "ingress"."webhook_dedupe"`);
  }
}
