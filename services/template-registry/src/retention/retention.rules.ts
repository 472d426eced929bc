import { inboxRetentionDays, Topics } from '@wa/contracts';
import type { PruneRule } from '@wa/persistence';
import type { TenantRegistry } from '@wa/tenancy';

/** Topics whose record ids the registry's inbox holds (template-registry.account-events). */
const INBOX_TOPICS = [Topics.accountEvent];

/** The registry holds no citizen data; only its inbox has to forget (docs/privacy.md). */
export function templatesRetentionRules(_tenants: TenantRegistry): PruneRule[] {
  return [{ table: 'templates.inbox', column: 'processed_at', days: () => inboxRetentionDays(INBOX_TOPICS), tenantColumn: null }];
}
