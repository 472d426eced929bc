import { eraseOutbox } from '@wa/persistence';
import type { CitizenEraser } from '@wa/service-kit';

/**
 * The scheduler forgets a citizen (docs/privacy.md). The agency's subjects addressed to their
 * number are deleted (their facts: name, document data); the notices planned for them are
 * anonymised (who is dropped; kind, status, template and timestamps stay for the agency's
 * outcome counts) and those still planned are cancelled. Consent, language preference and daily counts: deleted.
 */
export const eraseSchedulerCitizen: CitizenEraser = async (manager, { tenantId, citizenKey, spellings }, tally) => {
  const subjects = `SELECT kind, ref FROM scheduler.subject WHERE tenant_id = $1 AND regexp_replace(whatsapp, '\\D', '', 'g') = ANY($2::text[])`;
  const params = [tenantId, spellings];
  await tally.run(
    manager,
    'scheduler.notice',
    'anonymised',
    `UPDATE scheduler.notice SET subject_id = 'erased', detail = NULL,
            status = CASE WHEN status = 'planned' THEN 'cancelled' ELSE status END
      WHERE tenant_id = $1 AND (kind, ref) IN (${subjects}) RETURNING 1`,
    params,
  );
  await tally.run(
    manager,
    'scheduler.subject',
    'deleted',
    `DELETE FROM scheduler.subject WHERE (tenant_id, kind, ref) IN (SELECT $1, kind, ref FROM (${subjects}) s) RETURNING 1`,
    params,
  );
  for (const table of ['scheduler.consent', 'scheduler.daily_send', 'scheduler.citizen_preference']) {
    await tally.run(manager, table, 'deleted', `DELETE FROM ${table} WHERE tenant_id = $1 AND citizen_key = $2 RETURNING 1`, [
      tenantId,
      citizenKey,
    ]);
  }
  await eraseOutbox(manager, 'scheduler', tenantId, citizenKey, spellings, tally);
};
