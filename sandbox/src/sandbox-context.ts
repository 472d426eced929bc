import type { TenantRegistry } from '@wa/tenancy';
import type { WebhookSender } from './webhook-sender';

/** What every part of the simulator shares: the tenants it plays Meta for and the way back to the ingress. */
export interface SandboxContext {
  tenants: TenantRegistry;
  webhooks: WebhookSender;
  /** Path on the ingress that receives the webhooks of an app (one callback URL per Meta app). */
  webhookPath(appId: string): string;
}
