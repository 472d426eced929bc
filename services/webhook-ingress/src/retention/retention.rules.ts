import { inboxRetentionDays, Topics } from '@wa/contracts';
import type { PruneRule } from '@wa/persistence';
import { retentionOf, type TenantRegistry } from '@wa/tenancy';

/** Topics whose record ids the ingress's inbox may hold (the raw topic it normalizes). */
const INBOX_TOPICS = [Topics.webhookRaw];

/**
 * What the ingress forgets per tenant (docs/privacy.md): citizens' files fetched from Meta after
 * the tenant's `mediaDays`. Dedupe keys and the raw archive have platform-wide retentions
 * (normalizer/retention-pruner.ts).
 */
export function ingressRetentionRules(tenants: TenantRegistry): PruneRule[] {
  const days = (tenantId: string | undefined) => retentionOf(tenantId ? tenants.tenant(tenantId) : undefined);
  return [
    { table: 'ingress.media', column: 'fetched_at', days: (t) => days(t).mediaDays },
    { table: 'ingress.inbox', column: 'processed_at', days: () => inboxRetentionDays(INBOX_TOPICS), tenantColumn: null },
  ];
}
