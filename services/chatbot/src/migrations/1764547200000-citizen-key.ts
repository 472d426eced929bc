import type { MigrationInterface, QueryRunner } from 'typeorm';
import { legacyCitizenKeySql } from '@wa/contracts';

const KEY = legacyCitizenKeySql('citizen_key');

/**
 * Contacts are kept by the citizen key (`citizenKey` of @wa/contracts), the key of every citizen
 * topic and of the conversation's owner. Rows stored under a wa_id or a bare business-scoped user id
 * move to their key; two rows that turn out to be one citizen merge as the consumer merges messages
 * (the latest message time, the newest known name). Only rows whose key changes are touched.
 *
 * The previous release's pods write the old column names: upgrade with them stopped
 * (docs/operations.md, Releases and migrations).
 */
export class CitizenKey1764547200000 implements MigrationInterface {
  name = 'CitizenKey1764547200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "chatbot"."contact" RENAME COLUMN "wa_id" TO "citizen_key"`);
    await q.query(`
      WITH moved AS (
        DELETE FROM chatbot.contact WHERE citizen_key <> (${KEY})
        RETURNING tenant_id, ${KEY} AS citizen_key, profile_name, last_message_at)
      INSERT INTO chatbot.contact AS c (tenant_id, citizen_key, profile_name, last_message_at)
      SELECT DISTINCT ON (tenant_id, citizen_key) tenant_id, citizen_key,
             first_value(profile_name) OVER (PARTITION BY tenant_id, citizen_key ORDER BY profile_name IS NULL, last_message_at DESC),
             max(last_message_at) OVER (PARTITION BY tenant_id, citizen_key)
      FROM moved ORDER BY tenant_id, citizen_key
      ON CONFLICT (tenant_id, citizen_key) DO UPDATE
      SET profile_name = CASE WHEN EXCLUDED.last_message_at >= c.last_message_at THEN COALESCE(EXCLUDED.profile_name, c.profile_name)
                              ELSE COALESCE(c.profile_name, EXCLUDED.profile_name) END,
          last_message_at = GREATEST(c.last_message_at, EXCLUDED.last_message_at)`);
  }

  /** Back to the old column name and the old spelling of BSUIDs (bare); canonical digits stay canonical. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE chatbot.contact SET citizen_key = substr(citizen_key, 7) WHERE citizen_key LIKE 'bsuid:%'`);
    await q.query(`ALTER TABLE "chatbot"."contact" RENAME COLUMN "citizen_key" TO "wa_id"`);
  }
}
