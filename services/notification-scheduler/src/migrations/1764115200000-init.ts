import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createMessagingTables, dropMessagingTables } from '@wa/kafka';

export class Init1764115200000 implements MigrationInterface {
  name = 'Init1764115200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTables(queryRunner, 'scheduler');
    await queryRunner.query(`
      CREATE TABLE "scheduler"."template_catalog" (
        "tenant_id" text NOT NULL,
        "name" text NOT NULL,
        "language" text NOT NULL,
        "status" text NOT NULL,
        "version" int NOT NULL,
        "entry" jsonb NOT NULL,
        PRIMARY KEY ("tenant_id", "name", "language")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "scheduler"."template_catalog"`);
    await dropMessagingTables(queryRunner, 'scheduler');
  }
}
