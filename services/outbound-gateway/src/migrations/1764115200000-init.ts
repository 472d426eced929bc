import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createMessagingTables, dropMessagingTables } from '@wa/kafka';

export class Init1764115200000 implements MigrationInterface {
  name = 'Init1764115200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTables(queryRunner, 'gateway');
    await queryRunner.query(`
      CREATE TABLE "gateway"."contact_window" (
        "tenant_id" text NOT NULL,
        "wa_id" text NOT NULL,
        "last_inbound_at" timestamptz NOT NULL,
        PRIMARY KEY ("tenant_id", "wa_id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "gateway"."contact_window"`);
    await dropMessagingTables(queryRunner, 'gateway');
  }
}
