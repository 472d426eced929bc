import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Indexes the retention pruner deletes by (src/retention): each batch reads about what it deletes. */
export class Retention1765400000000 implements MigrationInterface {
  name = 'Retention1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS "inbox_processed_idx" ON "scheduler"."inbox" ("processed_at")`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS "notice_updated_idx" ON "scheduler"."notice" ("tenant_id", "updated_at")`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS "subject_updated_idx" ON "scheduler"."subject" ("tenant_id", "updated_at")`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS "daily_send_day_idx" ON "scheduler"."daily_send" ("day")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS "scheduler"."inbox_processed_idx"`);
    await queryRunner.query(`DROP INDEX IF EXISTS "scheduler"."notice_updated_idx"`);
    await queryRunner.query(`DROP INDEX IF EXISTS "scheduler"."subject_updated_idx"`);
    await queryRunner.query(`DROP INDEX IF EXISTS "scheduler"."daily_send_day_idx"`);
  }
}
