import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import {
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MinLength,
  Validate,
  ValidateIf,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import type { BaseEnv } from '@wa/config';

export type AuthMode = 'oidc' | 'sandbox';

/** Where sandbox mode keeps its signing key when none is configured (git-ignored, created on first use). */
export const DEFAULT_SANDBOX_KEY_FILE = '.local/auth/sandbox-signing.key';
export const SANDBOX_ISSUER = 'urn:wa-gov:sandbox';
export const DEFAULT_AUDIENCE = 'wa-gov-platform';

@ValidatorConstraint({ name: 'sandboxNotInProduction' })
class SandboxNotInProduction implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    return !(value === 'sandbox' && (args.object as { NODE_ENV?: string }).NODE_ENV === 'production');
  }
  defaultMessage(): string {
    return 'AUTH_MODE=sandbox (locally signed tokens) is refused when NODE_ENV=production; configure the OIDC issuer';
  }
}

const OIDC_REQUIRED = '$property is required when AUTH_MODE=oidc (the default; AUTH_MODE=sandbox only for local stacks and tests)';

/**
 * AUTH_MODE as given, else `oidc`: locally signed tokens are used only where a deployment asks
 * for them by name (the local stack, tests, the dev overlay), never by omission.
 */
export function effectiveAuthMode(env: { AUTH_MODE?: AuthMode; NODE_ENV?: string }): AuthMode {
  return env.AUTH_MODE ?? 'oidc';
}

/** Tokens that live longer than this are refused, whoever signed them (default 12 hours). */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- TypeScript's mixin pattern requires any[]
type EnvClass = new (...args: any[]) => BaseEnv;

/**
 * Adds the AUTH_* variables to a service's env class: `class MyEnv extends withAuthEnv(BaseEnv) {}`.
 *
 * - `AUTH_MODE`: `oidc` (JWKS of an OIDC issuer, the default) or `sandbox` (a local HS256 key,
 *   only when set explicitly, and refused when NODE_ENV=production).
 * - `AUTH_MAX_TOKEN_LIFETIME_SECONDS`: tokens valid for longer are refused (default 12 h).
 * - oidc: `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_JWKS_URL` are required.
 * - sandbox: `AUTH_SANDBOX_SECRET` (>= 32 characters) or `AUTH_SANDBOX_KEY_FILE`; with neither,
 *   the key lives in `.local/auth/sandbox-signing.key` (created on first use, shared with the
 *   token CLI `tools/mint-token.ts`).
 * - `AUTH_TENANT_CLAIM` / `AUTH_ROLES_CLAIM`: claim names (dotted paths such as
 *   `realm_access.roles` for Keycloak), defaults `tenant` and `roles`.
 */
export function withAuthEnv<TBase extends EnvClass>(Base: TBase) {
  class AuthEnvFields extends Base {
    /** Unset: `oidc` (see {@link effectiveAuthMode}); `sandbox` only when set explicitly. */
    @IsOptional()
    @IsIn(['oidc', 'sandbox'])
    @Validate(SandboxNotInProduction)
    AUTH_MODE?: AuthMode;

    @ValidateIf((o: AuthEnvFields) => effectiveAuthMode(o) === 'oidc' || o.AUTH_ISSUER !== undefined)
    @Matches(/\S/, { message: OIDC_REQUIRED })
    AUTH_ISSUER?: string;

    @ValidateIf((o: AuthEnvFields) => effectiveAuthMode(o) === 'oidc' || o.AUTH_AUDIENCE !== undefined)
    @Matches(/\S/, { message: OIDC_REQUIRED })
    AUTH_AUDIENCE?: string;

    /** Only https, except on loopback (a local IdP in development). */
    @ValidateIf((o: AuthEnvFields) => effectiveAuthMode(o) === 'oidc' || o.AUTH_JWKS_URL !== undefined)
    @Matches(/^(https:\/\/|http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/)\S+$/, {
      message: 'AUTH_JWKS_URL (the issuer’s JWKS, required when AUTH_MODE=oidc) must be an https URL (http only on loopback)',
    })
    AUTH_JWKS_URL?: string;

    /** Comma-separated JWS algorithms accepted from the issuer (never HS* or none). */
    @IsOptional()
    @Matches(/^((RS|PS|ES)(256|384|512)|EdDSA)(,((RS|PS|ES)(256|384|512)|EdDSA))*$/, {
      message: 'AUTH_ALGORITHMS lists asymmetric JWS algorithms, e.g. RS256,ES256',
    })
    AUTH_ALGORITHMS?: string;

    @ValidateIf((o: AuthEnvFields) => o.AUTH_SANDBOX_SECRET !== undefined)
    @IsString()
    @MinLength(32, { message: 'AUTH_SANDBOX_SECRET must have at least 32 characters' })
    AUTH_SANDBOX_SECRET?: string;

    @IsOptional()
    @IsString()
    AUTH_SANDBOX_KEY_FILE?: string;

    /** Longest accepted token lifetime in seconds (`exp` − `iat`, or `exp` − now without `iat`). */
    @IsOptional()
    @Matches(/^[1-9]\d{0,6}$/, { message: 'AUTH_MAX_TOKEN_LIFETIME_SECONDS must be a positive number of seconds' })
    AUTH_MAX_TOKEN_LIFETIME_SECONDS?: string;

    @IsOptional()
    @Matches(/^[A-Za-z0-9_:/.-]+$/)
    AUTH_TENANT_CLAIM?: string;

    @IsOptional()
    @Matches(/^[A-Za-z0-9_:/.-]+$/)
    AUTH_ROLES_CLAIM?: string;
  }
  return AuthEnvFields;
}

/** The auth variables on their own (tools, tests, services that need nothing else). */
export type AuthEnvVars = InstanceType<ReturnType<typeof withAuthEnv>>;

export interface AuthSettings {
  mode: AuthMode;
  issuer: string;
  audience: string;
  /** oidc */
  jwksUrl?: string;
  /** Least time between two JWKS fetches for unknown key ids (default 30 s). */
  jwksCooldownMs?: number;
  algorithms: string[];
  /** sandbox: the HS256 key bytes */
  sandboxKey?: Uint8Array;
  tenantClaim: string;
  rolesClaim: string;
  /** Tokens whose lifetime exceeds this are refused (seconds). */
  maxLifetimeSeconds?: number;
}

/**
 * Reads (or, in sandbox mode without configuration, creates) the sandbox signing key. Random,
 * 32 bytes, file mode 0600, under the git-ignored `.local/`.
 */
export function loadSandboxKey(options: { secret?: string; keyFile?: string; create?: boolean } = {}): Uint8Array {
  if (options.secret) return Buffer.from(options.secret, 'utf8');
  const file = resolve(options.keyFile ?? DEFAULT_SANDBOX_KEY_FILE);
  if (!existsSync(file)) {
    if (options.keyFile || options.create === false) throw new Error(`sandbox signing key file ${file} does not exist`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  const key = readFileSync(file, 'utf8').trim();
  if (key.length < 32) throw new Error(`sandbox signing key in ${file} is shorter than 32 characters`);
  return Buffer.from(key, 'utf8');
}

export function authSettingsFromEnv(env: AuthEnvVars): AuthSettings {
  const common = {
    tenantClaim: env.AUTH_TENANT_CLAIM ?? 'tenant',
    rolesClaim: env.AUTH_ROLES_CLAIM ?? 'roles',
    maxLifetimeSeconds: env.AUTH_MAX_TOKEN_LIFETIME_SECONDS
      ? Number(env.AUTH_MAX_TOKEN_LIFETIME_SECONDS)
      : DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  };
  if (effectiveAuthMode(env) === 'sandbox') {
    return {
      mode: 'sandbox',
      issuer: env.AUTH_ISSUER ?? SANDBOX_ISSUER,
      audience: env.AUTH_AUDIENCE ?? DEFAULT_AUDIENCE,
      algorithms: ['HS256'],
      sandboxKey: loadSandboxKey({ secret: env.AUTH_SANDBOX_SECRET, keyFile: env.AUTH_SANDBOX_KEY_FILE }),
      ...common,
    };
  }
  return {
    mode: 'oidc',
    issuer: env.AUTH_ISSUER!,
    audience: env.AUTH_AUDIENCE!,
    jwksUrl: env.AUTH_JWKS_URL!,
    algorithms: (env.AUTH_ALGORITHMS ?? 'RS256,PS256,ES256,EdDSA').split(','),
    ...common,
  };
}
