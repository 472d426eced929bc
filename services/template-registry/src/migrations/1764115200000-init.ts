import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createMessagingTables, dropMessagingTables } from '@wa/kafka';

export class Init1764115200000 implements MigrationInterface {
  name = 'Init1764115200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTables(queryRunner, 'templates');
    await queryRunner.query(`
      CREATE TABLE "templates"."template_event" (
        "event_id" text NOT NULL,
        "tenant_id" text NOT NULL,
        "template_name" text,
        "language" text,
        "kind" text NOT NULL,
        "event" text,
        "reason" text,
        "occurred_at" timestamptz NOT NULL,
        PRIMARY KEY ("event_id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "templates"."template_event"`);
    await dropMessagingTables(queryRunner, 'templates');
  }
}
