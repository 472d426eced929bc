import { readFileSync } from 'node:fs';
import { authSettingsFromEnv, effectiveAuthMode, mintSandboxToken } from '@wa/auth';
import type { ChatbotEnv } from '../config/env';

/** A bearer token naming one tenant, for the platform APIs the chatbot calls (the media API). */
export interface TokenSource {
  token(tenantId: string): Promise<string>;
}

/**
 * Sandbox mode: short-lived tokens signed with the sandbox key every service of the local stack
 * verifies with (`sub: service:chatbot`, role `service`: what the media API asks of platform
 * services). Cached until a minute before they expire.
 */
export class SandboxTokenSource implements TokenSource {
  private readonly cache = new Map<string, { token: string; until: number }>();

  constructor(private readonly key: Uint8Array) {}

  async token(tenantId: string): Promise<string> {
    const cached = this.cache.get(tenantId);
    if (cached && cached.until > Date.now()) return cached.token;
    const token = await mintSandboxToken({ key: this.key, sub: 'service:chatbot', tenant: tenantId, roles: ['service'], expiresIn: '15m' });
    this.cache.set(tenantId, { token, until: Date.now() + 14 * 60_000 });
    return token;
  }
}

/**
 * OIDC mode: a token per tenant from a secret reference (`CHATBOT_MEDIA_TOKEN_REF`), issued by
 * the identity provider for the chatbot's service account and mounted as a Secret; read on every
 * call so a rotated token is used at once.
 */
export class ReferencedTokenSource implements TokenSource {
  constructor(
    private readonly ref: string,
    private readonly env: Record<string, string | undefined> = process.env,
  ) {}

  async token(tenantId: string): Promise<string> {
    const ref = this.ref.replace('{TENANT}', tenantId.toUpperCase().replace(/-/g, '_'));
    const value = ref.startsWith('env:') ? this.env[ref.slice(4)] : readFileSync(ref.slice(5), 'utf8').trim();
    if (!value) throw new Error(`service token ${ref} is not set`);
    return value;
  }
}

export function tokenSourceFor(env: ChatbotEnv): TokenSource | undefined {
  if (effectiveAuthMode(env) === 'sandbox') return new SandboxTokenSource(authSettingsFromEnv(env).sandboxKey!);
  return env.CHATBOT_MEDIA_TOKEN_REF ? new ReferencedTokenSource(env.CHATBOT_MEDIA_TOKEN_REF) : undefined;
}
