import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Indexes the retention pruner deletes by (src/retention): each batch reads about what it deletes. */
export class Retention1765600000000 implements MigrationInterface {
  name = 'Retention1765600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS "inbox_processed_idx" ON "chatbot"."inbox" ("processed_at")`);
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS "citizen_profile_updated_idx" ON "chatbot"."citizen_profile" ("tenant_id", "updated_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS "chatbot"."inbox_processed_idx"`);
    await queryRunner.query(`DROP INDEX IF EXISTS "chatbot"."citizen_profile_updated_idx"`);
  }
}
