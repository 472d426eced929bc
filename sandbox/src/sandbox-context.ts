import type { TenantRegistry } from '@wa/tenancy';
import type { ConfigPatch } from './messages/outbound-simulator';
import type { WebhookSender } from './webhook-sender';

/** What every part of the simulator shares: the tenants it plays Meta for and the way back to the ingress. */
export interface SandboxContext {
  tenants: TenantRegistry;
  webhooks: WebhookSender;
  /** Path on the ingress that receives the webhooks of an app (one callback URL per Meta app). */
  webhookPath(appId: string): string;
  /**
   * Where the sandbox keeps what Meta would remember across its restarts (templates, customer
   * service windows, the "not on WhatsApp" list) in `state.json`. Absent: memory only (tests that
   * run it in-process and want a clean Meta each time).
   */
  stateDir?: string;
  /** The messages part's starting configuration (also what `DELETE /sandbox/messages` returns to). */
  messages?: ConfigPatch;
}
