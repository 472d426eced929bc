import type { MigrationInterface, QueryRunner } from 'typeorm';
import { legacyCitizenKeySql } from '@wa/contracts';

const KEY = legacyCitizenKeySql('citizen_key');

/**
 * Windows, consent and pacing are keyed by the citizen key (`citizenKey` of @wa/contracts): a
 * Mexican or Brazilian wa_id and the E.164 number of the same person are one key, and a citizen
 * known only by a business-scoped user id is `bsuid:<id>`. Rows stored under the old spellings
 * (the wa_id, the phone's digits, a bare bsuid) move to their key; two rows that turn out to be one
 * citizen merge as the read models would have merged their events (the newest consent, the latest
 * inbound message, the later pacing time). Only rows whose key changes are touched.
 *
 * The previous release's pods write the old column names: upgrade with them stopped
 * (docs/operations.md, Releases and migrations).
 */
export class CitizenKey1764547200000 implements MigrationInterface {
  name = 'CitizenKey1764547200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "gateway"."consent" RENAME COLUMN "wa_id" TO "citizen_key"`);
    await q.query(`
      WITH moved AS (
        DELETE FROM gateway.consent WHERE citizen_key <> (${KEY})
        RETURNING tenant_id, ${KEY} AS citizen_key, category, state, channel, occurred_at)
      INSERT INTO gateway.consent AS c (tenant_id, citizen_key, category, state, channel, occurred_at)
      SELECT DISTINCT ON (tenant_id, citizen_key, category) * FROM moved ORDER BY tenant_id, citizen_key, category, occurred_at DESC
      ON CONFLICT (tenant_id, citizen_key, category) DO UPDATE
      SET state = EXCLUDED.state, channel = EXCLUDED.channel, occurred_at = EXCLUDED.occurred_at
      WHERE c.occurred_at <= EXCLUDED.occurred_at`);

    await q.query(`ALTER TABLE "gateway"."contact_window" RENAME COLUMN "wa_id" TO "citizen_key"`);
    await q.query(`
      WITH moved AS (
        DELETE FROM gateway.contact_window WHERE citizen_key <> (${KEY})
        RETURNING tenant_id, ${KEY} AS citizen_key, phone_number_id, last_inbound_at)
      INSERT INTO gateway.contact_window AS w (tenant_id, citizen_key, phone_number_id, last_inbound_at)
      SELECT tenant_id, citizen_key, phone_number_id, max(last_inbound_at) FROM moved GROUP BY tenant_id, citizen_key, phone_number_id
      ON CONFLICT (tenant_id, citizen_key, phone_number_id)
      DO UPDATE SET last_inbound_at = GREATEST(w.last_inbound_at, EXCLUDED.last_inbound_at)`);

    // The recipient column holds the citizen key; the lane (number:citizen) orders and paces sends.
    const recipient = legacyCitizenKeySql('recipient');
    await q.query(`
      UPDATE gateway.outbound_message SET recipient = (${recipient}), lane = phone_number_id || ':' || (${recipient})
      WHERE recipient <> '' AND recipient <> (${recipient})`);
    const laneKey = legacyCitizenKeySql(`substr(lane, strpos(lane, ':') + 1)`);
    await q.query(`
      WITH moved AS (
        DELETE FROM gateway.pair_pacing
        WHERE strpos(lane, ':') > 0 AND substr(lane, strpos(lane, ':') + 1) NOT IN ('', ${laneKey})
        RETURNING split_part(lane, ':', 1) || ':' || (${laneKey}) AS lane, tat)
      INSERT INTO gateway.pair_pacing AS p (lane, tat) SELECT lane, max(tat) FROM moved GROUP BY lane
      ON CONFLICT (lane) DO UPDATE SET tat = GREATEST(p.tat, EXCLUDED.tat)`);
  }

  /**
   * Back to the old column names and the old spelling of BSUIDs (bare). Canonical digits stay
   * canonical: the wa_id or phone a row was first stored under is not kept anywhere.
   */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE gateway.consent SET citizen_key = substr(citizen_key, 7) WHERE citizen_key LIKE 'bsuid:%'`);
    await q.query(`ALTER TABLE "gateway"."consent" RENAME COLUMN "citizen_key" TO "wa_id"`);
    await q.query(`UPDATE gateway.contact_window SET citizen_key = substr(citizen_key, 7) WHERE citizen_key LIKE 'bsuid:%'`);
    await q.query(`ALTER TABLE "gateway"."contact_window" RENAME COLUMN "citizen_key" TO "wa_id"`);
    await q.query(
      `UPDATE gateway.outbound_message SET recipient = substr(recipient, 7), lane = phone_number_id || ':' || substr(recipient, 7)
       WHERE recipient LIKE 'bsuid:%'`,
    );
    await q.query(
      `UPDATE gateway.pair_pacing SET lane = split_part(lane, ':', 1) || ':' || substr(lane, strpos(lane, ':') + 7)
       WHERE substr(lane, strpos(lane, ':') + 1) LIKE 'bsuid:%'`,
    );
  }
}
