import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Indexes the retention pruner deletes by (src/retention): each batch reads about what it deletes. */
export class Retention1765400000000 implements MigrationInterface {
  name = 'Retention1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS "inbox_processed_idx" ON "templates"."inbox" ("processed_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS "templates"."inbox_processed_idx"`);
  }
}
