import { eraseOutbox } from '@wa/persistence';
import type { CitizenEraser } from '@wa/service-kit';

/**
 * The router forgets a citizen (docs/privacy.md). Their conversations are anonymised, not deleted
 * (queue times, SLAs, ratings and agents' workload must still add up): the citizen key becomes
 * `erased:<conversation id>`, the contact goes, an open one is closed. Their transcripts and the
 * console events that carried them, the conversation's owner: deleted. Deflections keep their
 * outcome without the caller.
 */
export const eraseHandoffCitizen: CitizenEraser = async (manager, { tenantId, citizenKey, spellings }, tally) => {
  const conversations = `SELECT id FROM handoff.conversation WHERE tenant_id = $1 AND citizen_key = $2`;
  const params = [tenantId, citizenKey];
  await tally.run(
    manager,
    'handoff.message',
    'deleted',
    `DELETE FROM handoff.message WHERE tenant_id = $1 AND conversation_id IN (${conversations}) RETURNING 1`,
    params,
  );
  await tally.run(
    manager,
    'handoff.console_event',
    'deleted',
    `DELETE FROM handoff.console_event WHERE tenant_id = $1 AND conversation_id IN (${conversations}) RETURNING 1`,
    params,
  );
  await tally.run(
    manager,
    'handoff.conversation',
    'anonymised',
    `UPDATE handoff.conversation
        SET citizen_key = 'erased:' || id, contact = '{}'::jsonb,
            state = 'closed', closed_at = coalesce(closed_at, now()), close_reason = coalesce(close_reason, 'erased')
      WHERE tenant_id = $1 AND citizen_key = $2 RETURNING 1`,
    params,
  );
  await tally.run(
    manager,
    'handoff.deflection',
    'anonymised',
    `UPDATE handoff.deflection SET citizen_key = 'erased:' || call_id, contact = '{}'::jsonb WHERE tenant_id = $1 AND citizen_key = $2 RETURNING 1`,
    params,
  );
  await tally.run(
    manager,
    'handoff.conversation_owner',
    'deleted',
    `DELETE FROM handoff.conversation_owner WHERE tenant_id = $1 AND citizen_key = $2 RETURNING 1`,
    params,
  );
  await eraseOutbox(manager, 'handoff', tenantId, citizenKey, spellings, tally);
};
