import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createMessagingTables, dropMessagingTables } from '@wa/kafka';

export class Init1764115200000 implements MigrationInterface {
  name = 'Init1764115200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTables(queryRunner, 'chatbot');
    await queryRunner.query(`
      CREATE TABLE "chatbot"."contact" (
        "tenant_id" text NOT NULL,
        "wa_id" text NOT NULL,
        "profile_name" text,
        "last_message_at" timestamptz NOT NULL,
        PRIMARY KEY ("tenant_id", "wa_id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "chatbot"."contact"`);
    await dropMessagingTables(queryRunner, 'chatbot');
  }
}
