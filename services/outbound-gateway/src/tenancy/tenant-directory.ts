import { createHash } from 'node:crypto';
import { InvalidEnvironmentError } from '@wa/config';
import { TenantRegistry, type PhoneNumberConfig, type TenantConfig } from '@wa/tenancy';

/** Everything one Cloud API call needs to know about who sends. */
export interface Sender {
  tenant: TenantConfig;
  phone: PhoneNumberConfig;
  graphVersion: string;
}

/** Secrets resolved from files are re-read at most this often, so a rotated Secret is picked up. */
const SECRET_TTL_MS = 30000;

/**
 * The gateway's view of the tenants file: which numbers each tenant may send from, at what
 * throughput, with which Graph version and token. Tokens are resolved on use (cached briefly) and
 * never logged; their fingerprint tells a hold whether the token has been rotated since.
 */
export class TenantDirectory {
  private readonly secrets = new Map<string, { value: string; at: number }>();

  constructor(readonly registry: TenantRegistry) {}

  static fromFile(path: string | undefined, env: Record<string, string | undefined> = process.env): TenantDirectory {
    if (!path) {
      throw new InvalidEnvironmentError([
        'TENANTS_FILE (missing): the gateway needs the tenants file (phone numbers, throughput tiers, tokens)',
      ]);
    }
    return new TenantDirectory(TenantRegistry.load(path, env));
  }

  /** The sender of a request: its phone number if given (it must be the tenant's), else the tenant's first. */
  resolve(tenantId: string, phoneNumberId?: string): Sender | { problem: 'unknown-tenant' | 'unknown-phone-number'; detail: string } {
    const tenant = this.registry.tenant(tenantId);
    if (!tenant) return { problem: 'unknown-tenant', detail: `tenant ${tenantId} is not in the tenants file` };
    const phone = phoneNumberId ? tenant.phoneNumbers.find((p) => p.id === phoneNumberId) : tenant.phoneNumbers[0];
    if (!phone)
      return { problem: 'unknown-phone-number', detail: `phone number id ${phoneNumberId} does not belong to tenant ${tenantId}` };
    return { tenant, phone, graphVersion: tenant.graphApiVersion };
  }

  /** Every number this gateway sends from, with its tenant. */
  senders(): Sender[] {
    return this.registry.tenants.flatMap((tenant) =>
      tenant.phoneNumbers.map((phone) => ({ tenant, phone, graphVersion: tenant.graphApiVersion })),
    );
  }

  accessToken(tenant: TenantConfig): string {
    const ref = tenant.accessTokenRef;
    const cached = this.secrets.get(ref);
    if (cached && Date.now() - cached.at < SECRET_TTL_MS) return cached.value;
    const value = this.registry.secret(ref);
    this.secrets.set(ref, { value, at: Date.now() });
    return value;
  }

  /** A short, non-reversible id of the current token: enough to notice a rotation, useless to an attacker. */
  tokenFingerprint(tenant: TenantConfig): string {
    try {
      return createHash('sha256').update(this.accessToken(tenant)).digest('hex').slice(0, 16);
    } catch {
      return 'unresolvable';
    }
  }
}
