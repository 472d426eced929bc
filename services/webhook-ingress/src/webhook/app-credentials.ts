import { Injectable } from '@nestjs/common';
import { TenantRegistry } from '@wa/tenancy';

/** App ids as they appear in callback URLs; anything else is not looked up at all. */
const APP_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

interface Cached {
  secrets: string[];
  verifyToken: string;
  tenantIds: string[];
  until: number;
}

/**
 * Secrets and verify tokens per app, resolved from the registry's references and cached briefly:
 * file-mounted secrets would otherwise be read from disk on every webhook, and a short TTL still
 * picks up a rotation (new secret added, old one moved to `previousAppSecretRef`) within seconds.
 */
@Injectable()
export class AppCredentials {
  private readonly cache = new Map<string, Cached>();
  static readonly TTL_MS = 30_000;

  constructor(private readonly registry: TenantRegistry) {}

  /** undefined: no such app in the tenants file (or not an app id at all). */
  of(appId: string): Cached | undefined {
    if (!APP_ID.test(appId)) return undefined;
    const now = Date.now();
    const cached = this.cache.get(appId);
    if (cached && cached.until > now) return cached;
    const app = this.registry.app(appId);
    if (!app) return undefined;
    // Checked again on every refresh: a rotated file that is now empty or short is refused (the
    // request fails and Meta retries) rather than verifying signatures anyone could make.
    const { secrets, verifyToken } = this.registry.webhookCredentials(appId);
    const fresh: Cached = {
      secrets,
      verifyToken,
      tenantIds: this.registry.tenantsOfApp(appId).map((t) => t.id),
      until: now + AppCredentials.TTL_MS,
    };
    this.cache.set(appId, fresh);
    return fresh;
  }
}
