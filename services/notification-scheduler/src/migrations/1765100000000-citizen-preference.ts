import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The language each citizen chose in the chatbot, from `citizen.preference.v1`. */
export class CitizenPreference1765100000000 implements MigrationInterface {
  name = 'CitizenPreference1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "scheduler"."citizen_preference" (
        "tenant_id" text NOT NULL,
        "citizen_key" text NOT NULL,
        "language" text NOT NULL,
        "chosen_at" timestamptz NOT NULL,
        "source" text NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("tenant_id", "citizen_key")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "scheduler"."citizen_preference"`);
  }
}
