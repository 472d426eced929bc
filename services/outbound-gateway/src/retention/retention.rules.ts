import { inboxRetentionDays, Topics } from '@wa/contracts';
import type { PruneRule } from '@wa/persistence';
import { retentionOf, type TenantRegistry } from '@wa/tenancy';

/** Topics whose record ids the gateway's inbox may hold (the group's non-compacted topics). */
const INBOX_TOPICS = [Topics.outboundRequest, Topics.inboundMessage, Topics.messageStatus, Topics.citizenConsent];

/**
 * What the gateway forgets, and when (docs/privacy.md): messages that reached a final state and
 * their statuses after the tenant's `messagesDays`, the agency's uploaded files unused for
 * `mediaDays` (their Meta upload records go with them, ON DELETE CASCADE). Queued and in-flight
 * messages are never pruned, however old. Consent is a legal record and stays.
 */
export function gatewayRetentionRules(tenants: TenantRegistry): PruneRule[] {
  const days = (tenantId: string | undefined) => retentionOf(tenantId ? tenants.tenant(tenantId) : undefined);
  return [
    {
      table: 'gateway.outbound_message',
      column: 'created_at',
      days: (t) => days(t).messagesDays,
      where: `state IN ('accepted', 'failed')`,
    },
    { table: 'gateway.message_status', column: 'recorded_at', days: (t) => days(t).messagesDays },
    { table: 'gateway.media_asset', column: 'coalesce(last_used_at, created_at)', days: (t) => days(t).mediaDays },
    { table: 'gateway.inbox', column: 'processed_at', days: () => inboxRetentionDays(INBOX_TOPICS), tenantColumn: null },
  ];
}
