import { inboxRetentionDays, Topics } from '@wa/contracts';
import type { PruneRule } from '@wa/persistence';
import { retentionOf, type TenantRegistry } from '@wa/tenancy';

/** Topics whose record ids the scheduler's inbox may hold (the group's non-compacted topics). */
const INBOX_TOPICS = [Topics.agencyEvent, Topics.outboundResult, Topics.messageStatus, Topics.citizenConsent];

/** Daily send counts serve the per-citizen daily cap; a week covers every time zone's "today". */
const DAILY_SEND_DAYS = 7;

/**
 * What the scheduler forgets, and when (docs/privacy.md): notices no longer planned after the
 * tenant's `noticesDays` since their last change, then subjects (the agency's citizen and document
 * facts) untouched for as long and without notices left; daily send counts after a week. Consent
 * is a legal record and stays.
 */
export function schedulerRetentionRules(tenants: TenantRegistry): PruneRule[] {
  const days = (tenantId: string | undefined) => retentionOf(tenantId ? tenants.tenant(tenantId) : undefined);
  return [
    { table: 'scheduler.notice', column: 'updated_at', days: (t) => days(t).noticesDays, where: `status <> 'planned'` },
    {
      table: 'scheduler.subject',
      column: 'updated_at',
      days: (t) => days(t).noticesDays,
      where: `NOT EXISTS (SELECT 1 FROM scheduler.notice n WHERE n.tenant_id = subject.tenant_id AND n.kind = subject.kind AND n.ref = subject.ref)`,
    },
    { table: 'scheduler.daily_send', column: 'day', days: () => DAILY_SEND_DAYS, tenantColumn: null },
    { table: 'scheduler.inbox', column: 'processed_at', days: () => inboxRetentionDays(INBOX_TOPICS), tenantColumn: null },
  ];
}
