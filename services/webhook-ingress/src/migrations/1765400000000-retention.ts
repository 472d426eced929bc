import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Indexes the retention pruner deletes by (src/retention): each batch reads about what it deletes. */
export class Retention1765400000000 implements MigrationInterface {
  name = 'Retention1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS "inbox_processed_idx" ON "ingress"."inbox" ("processed_at")`);
    await queryRunner.query(`CREATE INDEX IF NOT EXISTS "media_fetched_idx" ON "ingress"."media" ("tenant_id", "fetched_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS "ingress"."inbox_processed_idx"`);
    await queryRunner.query(`DROP INDEX IF EXISTS "ingress"."media_fetched_idx"`);
  }
}
