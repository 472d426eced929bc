import { eraseOutbox } from '@wa/persistence';
import type { CitizenEraser } from '@wa/service-kit';

/**
 * The gateway forgets a citizen (docs/privacy.md). Messages to them that were sent or failed are
 * anonymised, not deleted: the tenant's counts (sent, delivered, failed, billed) must still add
 * up, so the row keeps its state, kind, template name, timestamps and Meta's message id while the
 * recipient, the content and the error texts go. Messages still queued are deleted (nobody may
 * send them now). Consent, 24-hour windows and pacing lanes are about the person only: deleted.
 */
export const eraseGatewayCitizen: CitizenEraser = async (manager, { tenantId, citizenKey, spellings }, tally) => {
  // The lane is `<phone number id>:<citizen key>`; the key may itself contain a colon (bsuid:…).
  const mine = `tenant_id = $1 AND substr(lane, strpos(lane, ':') + 1) = $2`;
  await tally.run(
    manager,
    'gateway.pair_pacing',
    'deleted',
    `DELETE FROM gateway.pair_pacing WHERE lane IN (SELECT DISTINCT lane FROM gateway.outbound_message WHERE ${mine}) RETURNING 1`,
    [tenantId, citizenKey],
  );
  await tally.run(
    manager,
    'gateway.message_status',
    'anonymised',
    `UPDATE gateway.message_status SET errors = NULL
      WHERE tenant_id = $1 AND wamid IN (SELECT wamid FROM gateway.outbound_message WHERE ${mine} AND wamid IS NOT NULL) RETURNING 1`,
    [tenantId, citizenKey],
  );
  await tally.run(
    manager,
    'gateway.outbound_message',
    'deleted',
    `DELETE FROM gateway.outbound_message WHERE ${mine} AND state = 'queued' RETURNING 1`,
    [tenantId, citizenKey],
  );
  await tally.run(
    manager,
    'gateway.outbound_message',
    'anonymised',
    `UPDATE gateway.outbound_message
        SET recipient = 'erased', lane = phone_number_id || ':erased', request = '{"erased": true}'::jsonb, events = '[]'::jsonb,
            error = NULL, detail = NULL
      WHERE ${mine} RETURNING 1`,
    [tenantId, citizenKey],
  );
  for (const table of ['gateway.consent', 'gateway.contact_window']) {
    await tally.run(manager, table, 'deleted', `DELETE FROM ${table} WHERE tenant_id = $1 AND citizen_key = $2 RETURNING 1`, [
      tenantId,
      citizenKey,
    ]);
  }
  await eraseOutbox(manager, 'gateway', tenantId, citizenKey, spellings, tally);
};
