import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The scheduler's own data: what agency events are about (subject), one row per planned notice,
 * the consent read model, per-citizen daily send counts and the tenants' edited policies.
 */
export class Scheduling1764288000000 implements MigrationInterface {
  name = 'Scheduling1764288000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // One row per document / payment / collection / application an agency told us about.
    await queryRunner.query(`
      CREATE TABLE "scheduler"."subject" (
        "tenant_id" text NOT NULL,
        "kind" text NOT NULL CHECK ("kind" IN ('document', 'payment', 'collection', 'application')),
        "ref" text NOT NULL,
        "subject_id" text NOT NULL,
        "whatsapp" text NOT NULL,
        "language" text,
        "time_zone" text,
        "status" text NOT NULL,
        "notice_type" text NOT NULL,
        "due_date" date,
        "immediate" text,
        "data" jsonb NOT NULL,
        "last_event_id" text NOT NULL,
        "last_event_type" text NOT NULL,
        "last_event_time" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("tenant_id", "kind", "ref")
      )`);
    await queryRunner.query(`CREATE INDEX "subject_citizen_idx" ON "scheduler"."subject" ("tenant_id", "subject_id")`);

    // One row per planned notice. The id is derived from (subject, type, slot, date), so replays
    // upsert the same rows; it is also the gateway request id and the callback data.
    await queryRunner.query(`
      CREATE TABLE "scheduler"."notice" (
        "id" uuid PRIMARY KEY,
        "tenant_id" text NOT NULL,
        "kind" text NOT NULL,
        "ref" text NOT NULL,
        "subject_id" text NOT NULL,
        "notice_type" text NOT NULL,
        "slot" text NOT NULL,
        "catch_up" boolean NOT NULL DEFAULT false,
        "due_date" date,
        "planned_at" timestamptz NOT NULL,
        "due_at" timestamptz NOT NULL,
        "deadline_at" timestamptz NOT NULL,
        "status" text NOT NULL,
        "detail" text,
        "error_code" text,
        "template_name" text,
        "language" text,
        "wamid" text,
        "source_event_id" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "dispatched_at" timestamptz,
        "outcome_at" timestamptz
      )`);
    // The sweep's index: only pending notices, in due order (small even with years of history).
    await queryRunner.query(`CREATE INDEX "notice_due_idx" ON "scheduler"."notice" ("due_at") WHERE status = 'planned'`);
    await queryRunner.query(`CREATE INDEX "notice_subject_idx" ON "scheduler"."notice" ("tenant_id", "kind", "ref")`);
    await queryRunner.query(`CREATE INDEX "notice_wamid_idx" ON "scheduler"."notice" ("wamid") WHERE wamid IS NOT NULL`);

    // Latest consent per citizen and category, from citizen.consent.v1.
    await queryRunner.query(`
      CREATE TABLE "scheduler"."consent" (
        "tenant_id" text NOT NULL,
        "wa_id" text NOT NULL,
        "category" text NOT NULL,
        "state" text NOT NULL,
        "channel" text NOT NULL,
        "occurred_at" timestamptz NOT NULL,
        PRIMARY KEY ("tenant_id", "wa_id", "category")
      )`);

    // Notices dispatched per citizen and local day (the per-day limit); old days are pruned.
    await queryRunner.query(`
      CREATE TABLE "scheduler"."daily_send" (
        "tenant_id" text NOT NULL,
        "whatsapp" text NOT NULL,
        "day" date NOT NULL,
        "sent" int NOT NULL,
        PRIMARY KEY ("tenant_id", "whatsapp", "day")
      )`);

    // Policies edited through the admin API (the config file's are the fallback).
    await queryRunner.query(`
      CREATE TABLE "scheduler"."tenant_policy" (
        "tenant_id" text PRIMARY KEY,
        "policy" jsonb NOT NULL,
        "version" int NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "updated_by" text NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['tenant_policy', 'daily_send', 'consent', 'notice', 'subject']) {
      await queryRunner.query(`DROP TABLE IF EXISTS "scheduler"."${table}"`);
    }
  }
}
