import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `citizen_profile` is the chatbot's one record of a citizen; the older `contact` table (name and
 * last message only) has no reader left. Its rows become profiles where none exists yet, so a
 * citizen's name survives, and the table goes.
 */
export class ProfilesReplaceContacts1765400000000 implements MigrationInterface {
  name = 'ProfilesReplaceContacts1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO chatbot.citizen_profile (tenant_id, citizen_key, contact, profile_name, last_inbound_at, last_message_id)
      SELECT tenant_id, citizen_key,
             CASE WHEN citizen_key LIKE 'bsuid:%' THEN jsonb_build_object('bsuid', substr(citizen_key, 7))
                  ELSE jsonb_build_object('waId', citizen_key) END,
             profile_name, last_message_at, ''
      FROM chatbot.contact
      ON CONFLICT (tenant_id, citizen_key) DO NOTHING`);
    await q.query(`DROP TABLE chatbot.contact`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "chatbot"."contact" (
        "tenant_id" text NOT NULL,
        "citizen_key" text NOT NULL,
        "profile_name" text,
        "last_message_at" timestamptz NOT NULL,
        PRIMARY KEY ("tenant_id", "citizen_key")
      )`);
    await q.query(`
      INSERT INTO chatbot.contact (tenant_id, citizen_key, profile_name, last_message_at)
      SELECT tenant_id, citizen_key, profile_name, last_inbound_at FROM chatbot.citizen_profile`);
  }
}
