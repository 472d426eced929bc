import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Media bytes in chunks (media/media-store.ts says why): a download is written and served a chunk
 * at a time. Rows stored whole before stay readable from `media.content`.
 */
export class MediaChunks1765500000000 implements MigrationInterface {
  name = 'MediaChunks1765500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "ingress"."media" ALTER COLUMN "content" DROP NOT NULL`);
    await queryRunner.query(`
      CREATE TABLE "ingress"."media_chunk" (
        "tenant_id" text NOT NULL,
        "media_id" text NOT NULL,
        "seq" integer NOT NULL,
        "data" bytea NOT NULL,
        PRIMARY KEY ("tenant_id", "media_id", "seq"),
        FOREIGN KEY ("tenant_id", "media_id") REFERENCES "ingress"."media" ("tenant_id", "media_id") ON DELETE CASCADE
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "ingress"."media_chunk"`);
  }
}
