import type { QueryRunner } from 'typeorm';

/**
 * DDL for the outbox and inbox tables, schema-qualified (TypeORM's raw queries follow search_path,
 * so an unqualified CREATE could land in public). Each service's first migration calls this; the
 * SQL is frozen here like a migration: change it only through a new migration.
 */
export async function createMessagingTables(queryRunner: QueryRunner, schema: string): Promise<void> {
  await queryRunner.query(`
    CREATE TABLE "${schema}"."outbox" (
      "seq" BIGSERIAL PRIMARY KEY,
      "eventId" uuid NOT NULL UNIQUE,
      "topic" text NOT NULL,
      "key" text,
      "value" text NOT NULL,
      "headers" jsonb NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "published_at" timestamptz,
      "attempts" int NOT NULL DEFAULT 0,
      "last_error" text
    )`);
  await queryRunner.query(`CREATE INDEX "outbox_unpublished_idx" ON "${schema}"."outbox" ("seq") WHERE published_at IS NULL`);
  await queryRunner.query(`
    CREATE TABLE "${schema}"."inbox" (
      "consumer" text NOT NULL,
      "message_id" text NOT NULL,
      "processed_at" timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY ("consumer", "message_id")
    )`);
}

export async function dropMessagingTables(queryRunner: QueryRunner, schema: string): Promise<void> {
  await queryRunner.query(`DROP TABLE IF EXISTS "${schema}"."inbox"`);
  await queryRunner.query(`DROP TABLE IF EXISTS "${schema}"."outbox"`);
}

/**
 * `outbox.parked_at`: where the relay sets aside a row the broker keeps refusing (OutboxRelay,
 * parkAfterAttempts), next to the existing `last_error`. Each service's migration after its first
 * calls this once; frozen like createMessagingTables.
 */
export async function addOutboxParking(queryRunner: QueryRunner, schema: string): Promise<void> {
  await queryRunner.query(`ALTER TABLE "${schema}"."outbox" ADD COLUMN "parked_at" timestamptz`);
}

export async function dropOutboxParking(queryRunner: QueryRunner, schema: string): Promise<void> {
  await queryRunner.query(`ALTER TABLE "${schema}"."outbox" DROP COLUMN IF EXISTS "parked_at"`);
}
