import { eraseOutbox } from '@wa/persistence';
import type { CitizenEraser } from '@wa/service-kit';

/**
 * The chatbot forgets a citizen (docs/privacy.md): their profile (name, language), the
 * conversation's owner and the session with its transcript are all about them alone: deleted.
 * The tenant's case numbers and flows name nobody.
 */
export const eraseChatbotCitizen: CitizenEraser = async (manager, { tenantId, citizenKey, spellings }, tally) => {
  for (const table of ['chatbot.session', 'chatbot.conversation_owner', 'chatbot.citizen_profile']) {
    await tally.run(manager, table, 'deleted', `DELETE FROM ${table} WHERE tenant_id = $1 AND citizen_key = $2 RETURNING 1`, [
      tenantId,
      citizenKey,
    ]);
  }
  await eraseOutbox(manager, 'chatbot', tenantId, citizenKey, spellings, tally);
};
