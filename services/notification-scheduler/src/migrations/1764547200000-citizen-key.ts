import type { MigrationInterface, QueryRunner } from 'typeorm';
import { legacyCitizenKeySql } from '@wa/contracts';

const KEY = legacyCitizenKeySql('citizen_key');

/**
 * Consent and the per-day limit are kept by the citizen key (`citizenKey` of @wa/contracts), so a
 * STOP from a Mexican or Brazilian wa_id meets the agency's E.164 number of the same person. Rows
 * stored under a wa_id or a phone's digits move to their key; rows that turn out to be one citizen
 * merge as the read model merges events (the newest consent wins, daily counts add up). Only rows
 * whose key changes are touched.
 *
 * The previous release's pods write the old column names: upgrade with them stopped
 * (docs/operations.md, Releases and migrations).
 */
export class CitizenKey1764547200000 implements MigrationInterface {
  name = 'CitizenKey1764547200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "scheduler"."consent" RENAME COLUMN "wa_id" TO "citizen_key"`);
    await q.query(`
      WITH moved AS (
        DELETE FROM scheduler.consent WHERE citizen_key <> (${KEY})
        RETURNING tenant_id, ${KEY} AS citizen_key, category, state, channel, occurred_at)
      INSERT INTO scheduler.consent AS c (tenant_id, citizen_key, category, state, channel, occurred_at)
      SELECT DISTINCT ON (tenant_id, citizen_key, category) * FROM moved ORDER BY tenant_id, citizen_key, category, occurred_at DESC
      ON CONFLICT (tenant_id, citizen_key, category) DO UPDATE
      SET state = EXCLUDED.state, channel = EXCLUDED.channel, occurred_at = EXCLUDED.occurred_at
      WHERE c.occurred_at <= EXCLUDED.occurred_at`);

    await q.query(`ALTER TABLE "scheduler"."daily_send" RENAME COLUMN "whatsapp" TO "citizen_key"`);
    await q.query(`
      WITH moved AS (
        DELETE FROM scheduler.daily_send WHERE citizen_key <> (${KEY})
        RETURNING tenant_id, ${KEY} AS citizen_key, day, sent)
      INSERT INTO scheduler.daily_send AS d (tenant_id, citizen_key, day, sent)
      SELECT tenant_id, citizen_key, day, sum(sent) FROM moved GROUP BY tenant_id, citizen_key, day
      ON CONFLICT (tenant_id, citizen_key, day) DO UPDATE SET sent = d.sent + EXCLUDED.sent`);
  }

  /**
   * Back to the old column names. Consent keys stay canonical digits (the wa_id a STOP first came
   * from is not kept); BSUID-only consent, which the old code did not keep, is dropped; daily counts
   * get their `+` back.
   */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM scheduler.consent WHERE citizen_key LIKE 'bsuid:%'`);
    await q.query(`ALTER TABLE "scheduler"."consent" RENAME COLUMN "citizen_key" TO "wa_id"`);
    await q.query(`DELETE FROM scheduler.daily_send WHERE citizen_key LIKE 'bsuid:%'`);
    await q.query(`UPDATE scheduler.daily_send SET citizen_key = '+' || citizen_key`);
    await q.query(`ALTER TABLE "scheduler"."daily_send" RENAME COLUMN "citizen_key" TO "whatsapp"`);
  }
}
