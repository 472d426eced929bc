import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Lets the retention job find expired raw bodies across tenants without reading the whole archive. */
export class RawArchiveRetention1764374400000 implements MigrationInterface {
  name = 'RawArchiveRetention1764374400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "raw_webhook_received_at_idx" ON "ingress"."raw_webhook" ("received_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ingress"."raw_webhook_received_at_idx"`);
  }
}
