import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createMessagingTables, dropMessagingTables } from '@wa/kafka';

export class Init1764115200000 implements MigrationInterface {
  name = 'Init1764115200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTables(queryRunner, 'ingress');
    await queryRunner.query(`
      CREATE TABLE "ingress"."raw_webhook" (
        "event_id" uuid PRIMARY KEY,
        "tenant_id" text NOT NULL,
        "app_id" text NOT NULL,
        "received_at" timestamptz NOT NULL,
        "body" text NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX "raw_webhook_received_idx" ON "ingress"."raw_webhook" ("tenant_id", "received_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "ingress"."raw_webhook"`);
    await dropMessagingTables(queryRunner, 'ingress');
  }
}
