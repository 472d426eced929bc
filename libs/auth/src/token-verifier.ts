import { TENANT_ID_PATTERN } from '@wa/contracts';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, type AuthSettings } from './auth-env';
import { jose } from './jose';
import { isRole, type Principal } from './principal';

/** The token was presented but cannot be trusted (401). `reason` is safe to show: it never echoes the token. */
export class TokenRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'TokenRejected';
  }
}

/** We could not check the token at all (JWKS unreachable): the caller is not at fault (503). */
export class VerificationUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerificationUnavailable';
  }
}

function claimAt(payload: JWTPayload, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), payload);
}

/** jose error codes that mean "this token is bad", as opposed to "we cannot check it now". */
const TOKEN_FAULTS: Record<string, string> = {
  ERR_JWT_EXPIRED: 'the token has expired',
  ERR_JWT_CLAIM_VALIDATION_FAILED: 'a claim is invalid',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'the signature does not verify',
  ERR_JOSE_ALG_NOT_ALLOWED: 'the signing algorithm is not accepted',
  ERR_JWKS_NO_MATCHING_KEY: 'no key of the issuer matches the token',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'the token matches several keys of the issuer',
  ERR_JWS_INVALID: 'the token is malformed',
  ERR_JWT_INVALID: 'the token is malformed',
  ERR_JOSE_NOT_SUPPORTED: 'the token uses an unsupported algorithm',
};

/**
 * Verifies bearer JWTs: signature (JWKS of the OIDC issuer, or the sandbox key), `iss`, `aud`,
 * `exp`/`nbf` (30 s clock tolerance), an allow-list of algorithms (no `none`, and no HMAC when
 * verifying against an issuer's JWKS, which would allow key-confusion attacks), then the platform
 * claims `sub`, `tenant` and `roles`.
 */
export class TokenVerifier {
  private readonly key: JWTVerifyGetKey | Uint8Array;

  constructor(private readonly settings: AuthSettings) {
    if (settings.mode === 'oidc') {
      if (!settings.jwksUrl) throw new Error('oidc mode needs a JWKS URL');
      // jose caches the key set, refetches on an unknown kid (at most every 30 s) and times out at 5 s.
      this.key = jose().createRemoteJWKSet(new URL(settings.jwksUrl), {
        timeoutDuration: 5000,
        cooldownDuration: settings.jwksCooldownMs ?? 30000,
        cacheMaxAge: 600000,
      });
    } else {
      if (!settings.sandboxKey) throw new Error('sandbox mode needs a signing key');
      this.key = settings.sandboxKey;
    }
  }

  get mode(): AuthSettings['mode'] {
    return this.settings.mode;
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      const options = {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: this.settings.algorithms,
        clockTolerance: 30,
        requiredClaims: ['exp', 'sub'],
      };
      const result =
        this.key instanceof Uint8Array
          ? await jose().jwtVerify(token, this.key, options)
          : await jose().jwtVerify(token, this.key as JWTVerifyGetKey, options);
      payload = result.payload;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code && TOKEN_FAULTS[code]) {
        const claim = (error as { claim?: string }).claim;
        throw new TokenRejected(
          code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim ? `the "${claim}" claim is invalid` : TOKEN_FAULTS[code],
        );
      }
      throw new VerificationUnavailable(`token verification failed: ${(error as Error).message}`);
    }
    // A stolen long-lived token is a long-lived breach: refuse lifetimes past the limit.
    const maxLifetime = this.settings.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
    const exp = payload.exp as number;
    const lifetime = typeof payload.iat === 'number' ? exp - payload.iat : exp - Math.floor(Date.now() / 1000);
    if (lifetime > maxLifetime) {
      throw new TokenRejected(`the token lives ${lifetime} s, longer than the accepted ${maxLifetime} s`);
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0) throw new TokenRejected('the "sub" claim is missing');
    const tenant = claimAt(payload, this.settings.tenantClaim);
    if (typeof tenant !== 'string' || !TENANT_ID_PATTERN.test(tenant)) {
      throw new TokenRejected(`the "${this.settings.tenantClaim}" claim must name a tenant`);
    }
    const rawRoles = claimAt(payload, this.settings.rolesClaim);
    const list = Array.isArray(rawRoles) ? rawRoles : typeof rawRoles === 'string' ? rawRoles.split(/[\s,]+/) : [];
    return {
      sub,
      tenant,
      roles: [...new Set(list.filter(isRole))],
      jti: typeof payload.jti === 'string' ? payload.jti : undefined,
      expiresAt: typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : undefined,
    };
  }
}
