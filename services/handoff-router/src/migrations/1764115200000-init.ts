import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createMessagingTables, dropMessagingTables } from '@wa/kafka';

export class Init1764115200000 implements MigrationInterface {
  name = 'Init1764115200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTables(queryRunner, 'handoff');
    await queryRunner.query(`
      CREATE TABLE "handoff"."handoff_request" (
        "conversation_id" text NOT NULL,
        "tenant_id" text NOT NULL,
        "department" text NOT NULL,
        "language" text NOT NULL,
        "state" text NOT NULL,
        "requested_at" timestamptz NOT NULL,
        PRIMARY KEY ("conversation_id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "handoff"."handoff_request"`);
    await dropMessagingTables(queryRunner, 'handoff');
  }
}
