import { randomUUID } from 'node:crypto';
import { TENANT_ID_PATTERN } from '@wa/contracts';
import { DEFAULT_AUDIENCE, SANDBOX_ISSUER } from './auth-env';
import { jose } from './jose';
import { isRole, type Role } from './principal';

export interface MintOptions {
  /** The sandbox HS256 key (see `loadSandboxKey`). */
  key: Uint8Array;
  sub: string;
  tenant: string;
  roles: Role[];
  /** jose duration (`15m`, `8h`) or seconds. Default 1 h. */
  expiresIn?: string | number;
  issuer?: string;
  audience?: string;
  /** Claim names, if the services are configured with other ones. */
  tenantClaim?: string;
  rolesClaim?: string;
}

/** Signs a development token the sandbox-mode verifier accepts. Never used in production. */
export async function mintSandboxToken(options: MintOptions): Promise<string> {
  if (!options.sub) throw new Error('sub is required');
  if (!TENANT_ID_PATTERN.test(options.tenant)) throw new Error(`tenant "${options.tenant}" is not a tenant id`);
  const unknown = options.roles.filter((r) => !isRole(r));
  if (unknown.length) throw new Error(`unknown role(s): ${unknown.join(', ')}`);
  const claims: Record<string, unknown> = {
    [options.tenantClaim ?? 'tenant']: options.tenant,
    [options.rolesClaim ?? 'roles']: options.roles,
  };
  const expiresIn = options.expiresIn ?? '1h';
  return new (jose().SignJWT)(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuer(options.issuer ?? SANDBOX_ISSUER)
    .setAudience(options.audience ?? DEFAULT_AUDIENCE)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(typeof expiresIn === 'number' ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn)
    .sign(options.key);
}
