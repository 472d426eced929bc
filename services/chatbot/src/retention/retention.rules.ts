import { inboxRetentionDays, Topics } from '@wa/contracts';
import type { PruneRule } from '@wa/persistence';
import { retentionOf, type TenantRegistry } from '@wa/tenancy';

/** Topics whose record ids the chatbot's inbox holds (chatbot.inbound, chatbot.owner, chatbot.user-preference). */
const INBOX_TOPICS = [Topics.inboundMessage, Topics.conversationOwner, Topics.accountEvent];

/**
 * What the chatbot forgets, and when (docs/privacy.md): a session (its state and transcript)
 * `transcriptsDays` after it expired; a citizen's profile (name, language) after `messagesDays`
 * without a change.
 */
export function chatbotRetentionRules(tenants: TenantRegistry): PruneRule[] {
  const days = (tenantId: string | undefined) => retentionOf(tenantId ? tenants.tenant(tenantId) : undefined);
  return [
    { table: 'chatbot.session', column: 'expires_at', days: (t) => days(t).transcriptsDays },
    { table: 'chatbot.citizen_profile', column: 'updated_at', days: (t) => days(t).messagesDays },
    { table: 'chatbot.inbox', column: 'processed_at', days: () => inboxRetentionDays(INBOX_TOPICS), tenantColumn: null },
  ];
}
