/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { BaseEnv, InvalidEnvironmentError, loadEnv } from '@wa/config';
import { HttpErrorFilter } from '@wa/service-kit';
import { authSettingsFromEnv, withAuthEnv, type AuthSettings } from './auth-env';
import { jose } from './jose';
import { mintSandboxToken } from './mint';
import { AuthModule, CurrentPrincipal, Roles } from './nest';
import type { Principal } from './principal';
import { TokenRejected, TokenVerifier, VerificationUnavailable } from './token-verifier';

const SECRET = 'test-secret-0123456789-abcdefghijklmnop';
const key = Buffer.from(SECRET);
const sandbox: AuthSettings = {
  mode: 'sandbox',
  issuer: 'urn:wa-gov:sandbox',
  audience: 'wa-gov-platform',
  algorithms: ['HS256'],
  sandboxKey: key,
  tenantClaim: 'tenant',
  rolesClaim: 'roles',
};

async function rejection(verifier: TokenVerifier, token: string): Promise<string> {
  try {
    await verifier.verify(token);
    return 'accepted';
  } catch (error) {
    return error instanceof TokenRejected ? error.reason : `${(error as Error).name}: ${(error as Error).message}`;
  }
}

describe('TokenVerifier in sandbox mode', () => {
  const verifier = new TokenVerifier(sandbox);

  it('accepts a minted token and returns the principal', async () => {
    const token = await mintSandboxToken({ key, sub: 'alice', tenant: 'roads-agency', roles: ['template-editor', 'agent'] });
    const principal = await verifier.verify(token);
    expect(principal).toMatchObject({ sub: 'alice', tenant: 'roads-agency', roles: ['template-editor', 'agent'] });
    expect(principal.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 50 * 60 * 1000);
  });

  it('rejects an expired token', async () => {
    const token = await mintSandboxToken({ key, sub: 'alice', tenant: 'roads-agency', roles: ['admin'], expiresIn: -120 });
    expect(await rejection(verifier, token)).toBe('the token has expired');
  });

  it('rejects a token that lives longer than the accepted lifetime, whoever signed it', async () => {
    const day = await mintSandboxToken({ key, sub: 'alice', tenant: 'roads-agency', roles: ['agent'], expiresIn: '24h' });
    await expect(verifier.verify(day)).rejects.toThrow(/lives 86400 s, longer than the accepted 43200 s/);
    const strict = new TokenVerifier({ ...sandbox, maxLifetimeSeconds: 600 });
    const hour = await mintSandboxToken({ key, sub: 'alice', tenant: 'roads-agency', roles: ['agent'], expiresIn: '1h' });
    await expect(strict.verify(hour)).rejects.toThrow(TokenRejected);
    await expect(verifier.verify(hour)).resolves.toMatchObject({ sub: 'alice' });
  });

  it('rejects a token signed with another key', async () => {
    const token = await mintSandboxToken({
      key: Buffer.from('another-secret-0123456789-abcdefghijk'),
      sub: 'a',
      tenant: 'roads-agency',
      roles: ['admin'],
    });
    expect(await rejection(verifier, token)).toBe('the signature does not verify');
  });

  it('rejects another issuer or audience', async () => {
    const otherIssuer = await mintSandboxToken({ key, sub: 'a', tenant: 'roads-agency', roles: ['admin'], issuer: 'https://evil.example' });
    expect(await rejection(verifier, otherIssuer)).toBe('the "iss" claim is invalid');
    const otherAudience = await mintSandboxToken({ key, sub: 'a', tenant: 'roads-agency', roles: ['admin'], audience: 'other-app' });
    expect(await rejection(verifier, otherAudience)).toBe('the "aud" claim is invalid');
  });

  it('rejects unsigned (alg none) and tampered tokens', async () => {
    const unsigned = new (jose().UnsecuredJWT)({ tenant: 'roads-agency', roles: ['admin'] })
      .setSubject('mallory')
      .setIssuer(sandbox.issuer)
      .setAudience(sandbox.audience)
      .setExpirationTime('1h')
      .encode();
    expect(await rejection(verifier, unsigned)).toMatch(/algorithm|malformed/);
    const token = await mintSandboxToken({ key, sub: 'alice', tenant: 'roads-agency', roles: ['agent'] });
    const [h, , s] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({
        sub: 'alice',
        tenant: 'immigration-dept',
        roles: ['admin'],
        iss: sandbox.issuer,
        aud: sandbox.audience,
        exp: 9999999999,
      }),
    ).toString('base64url');
    expect(await rejection(verifier, `${h}.${forged}.${s}`)).toBe('the signature does not verify');
  });

  it('requires a tenant claim that is a tenant id, and drops unknown roles', async () => {
    const noTenant = await new (jose().SignJWT)({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('a')
      .setIssuer(sandbox.issuer)
      .setAudience(sandbox.audience)
      .setExpirationTime('1h')
      .sign(key);
    expect(await rejection(verifier, noTenant)).toBe('the "tenant" claim must name a tenant');
    const oddRoles = await new (jose().SignJWT)({ tenant: 'roads-agency', roles: ['superuser', 'agent', 'agent'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('a')
      .setIssuer(sandbox.issuer)
      .setAudience(sandbox.audience)
      .setExpirationTime('1h')
      .sign(key);
    expect((await verifier.verify(oddRoles)).roles).toEqual(['agent']);
  });

  it('mint refuses unknown roles and bad tenants', async () => {
    await expect(mintSandboxToken({ key, sub: 'a', tenant: 'Roads Agency', roles: ['admin'] })).rejects.toThrow('is not a tenant id');
    await expect(mintSandboxToken({ key, sub: 'a', tenant: 'roads-agency', roles: ['root' as never] })).rejects.toThrow('unknown role');
  });
});

describe('TokenVerifier against an OIDC issuer (JWKS over HTTP)', () => {
  let server: Server;
  let jwks: { keys: object[] } = { keys: [] };
  let fetches = 0;
  let issuerKey: Parameters<ReturnType<typeof jose>['SignJWT']['prototype']['sign']>[0];
  let settings: AuthSettings;

  beforeAll(async () => {
    const pair = await jose().generateKeyPair('ES256');
    issuerKey = pair.privateKey;
    jwks = { keys: [{ ...(await jose().exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
    server = createServer((req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    settings = {
      mode: 'oidc',
      issuer: 'https://idp.example.gov/realms/agencies',
      audience: 'wa-gov-platform',
      jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
      algorithms: ['RS256', 'ES256'],
      tenantClaim: 'org.tenant',
      rolesClaim: 'realm_access.roles',
    };
  });

  afterAll(() => new Promise((r) => server.close(r)));

  const sign = (payload: object, kid = 'k1', signer: typeof issuerKey = issuerKey, alg = 'ES256') =>
    new (jose().SignJWT)(payload as Record<string, unknown>)
      .setProtectedHeader({ alg, kid })
      .setSubject('officer-7')
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setExpirationTime('5m')
      .sign(signer);

  it('verifies against the issuer keys, reading nested claims', async () => {
    const verifier = new TokenVerifier(settings);
    const token = await sign({ org: { tenant: 'immigration-dept' }, realm_access: { roles: ['supervisor', 'offline_access'] } });
    expect(await verifier.verify(token)).toMatchObject({ sub: 'officer-7', tenant: 'immigration-dept', roles: ['supervisor'] });
  });

  it('picks up a rotated key (unknown kid triggers a refetch)', async () => {
    const verifier = new TokenVerifier({ ...settings, jwksCooldownMs: 0 });
    await verifier.verify(await sign({ org: { tenant: 'roads-agency' } }));
    const next = await jose().generateKeyPair('ES256');
    jwks = { keys: [...jwks.keys, { ...(await jose().exportJWK(next.publicKey)), kid: 'k2', alg: 'ES256' }] };
    const before = fetches;
    const principal = await verifier.verify(await sign({ org: { tenant: 'roads-agency' } }, 'k2', next.privateKey));
    expect(principal.tenant).toBe('roads-agency');
    expect(fetches).toBe(before + 1);
  });

  it('refuses an HMAC token even if signed with the public key material (algorithm confusion)', async () => {
    const verifier = new TokenVerifier(settings);
    const hmac = await sign({ org: { tenant: 'roads-agency' } }, 'k1', Buffer.from(JSON.stringify(jwks.keys[0])), 'HS256');
    expect(await rejection(verifier, hmac)).toBe('the signing algorithm is not accepted');
  });

  it('reports an unreachable issuer as unavailable, not as a bad token', async () => {
    const verifier = new TokenVerifier({ ...settings, jwksUrl: 'http://127.0.0.1:9/jwks' });
    const token = await sign({ org: { tenant: 'roads-agency' } });
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(VerificationUnavailable);
  });
});

describe('withAuthEnv', () => {
  class Env extends withAuthEnv(BaseEnv) {}
  const base = { PORT: '3000', DATABASE_URL: 'postgres://x@127.0.0.1/db' };
  const problems = (vars: Record<string, string>) => {
    try {
      loadEnv(Env, { ...base, ...vars });
      return [];
    } catch (error) {
      return (error as InvalidEnvironmentError).problems;
    }
  };

  it('uses sandbox tokens only when AUTH_MODE=sandbox is set, and defaults to oidc everywhere', () => {
    expect(problems({ NODE_ENV: 'development', AUTH_MODE: 'sandbox', AUTH_SANDBOX_SECRET: SECRET })).toEqual([]);
    for (const NODE_ENV of ['production', 'development', 'test']) {
      expect(
        problems({ NODE_ENV, AUTH_SANDBOX_SECRET: SECRET })
          .map((p) => p.split(' ')[0])
          .sort(),
      ).toEqual(['AUTH_AUDIENCE', 'AUTH_ISSUER', 'AUTH_JWKS_URL']);
    }
  });

  it('refuses sandbox mode in production', () => {
    expect(problems({ NODE_ENV: 'production', AUTH_MODE: 'sandbox', AUTH_SANDBOX_SECRET: SECRET })).toEqual([
      'AUTH_MODE ("sandbox"): AUTH_MODE=sandbox (locally signed tokens) is refused when NODE_ENV=production; configure the OIDC issuer',
    ]);
  });

  it('requires a long sandbox secret and hides it in the message', () => {
    expect(problems({ AUTH_MODE: 'sandbox', AUTH_SANDBOX_SECRET: 'short' })).toEqual([
      'AUTH_SANDBOX_SECRET (set (hidden)): AUTH_SANDBOX_SECRET must have at least 32 characters',
    ]);
  });

  it('accepts a complete oidc configuration and rejects a plain-http JWKS URL off loopback', () => {
    const oidc = {
      NODE_ENV: 'production',
      AUTH_ISSUER: 'https://idp.example.gov',
      AUTH_AUDIENCE: 'wa',
      AUTH_JWKS_URL: 'https://idp.example.gov/jwks',
    };
    expect(problems(oidc)).toEqual([]);
    expect(problems({ ...oidc, AUTH_JWKS_URL: 'http://idp.example.gov/jwks' })[0]).toMatch(/^AUTH_JWKS_URL/);
    const settings = authSettingsFromEnv(loadEnv(Env, { ...base, ...oidc }));
    expect(settings).toMatchObject({
      mode: 'oidc',
      algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      tenantClaim: 'tenant',
      rolesClaim: 'roles',
    });
  });
});

describe('AuthGuard, @Roles and @CurrentPrincipal over HTTP', () => {
  @Controller('things')
  class ThingsController {
    @Roles('template-editor')
    @Get()
    list(@CurrentPrincipal() who: Principal) {
      return { tenant: who.tenant, sub: who.sub };
    }
  }

  @Module({ imports: [AuthModule.forRoot(sandbox)], controllers: [ThingsController] })
  class TestModule {}

  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(TestModule, new FastifyAdapter(), { logger: false });
    app.useGlobalFilters(new HttpErrorFilter());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  const get = (authorization?: string) =>
    app
      .getHttpAdapter()
      .getInstance()
      .inject({ method: 'GET', url: '/things', headers: authorization ? { authorization } : {} });

  it('401 without a token, with a Bearer challenge', async () => {
    const response = await get();
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="wa-gov"');
    expect(response.json()).toEqual({ code: 'unauthorized', message: 'a bearer token is required (Authorization: Bearer <jwt>)' });
  });

  it('401 for a malformed header or an expired token', async () => {
    expect((await get('Basic dXNlcjpwYXNz')).statusCode).toBe(401);
    const expired = await mintSandboxToken({ key, sub: 'a', tenant: 'roads-agency', roles: ['admin'], expiresIn: -60 });
    const response = await get(`Bearer ${expired}`);
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(response.json().message).toBe('invalid token: the token has expired');
  });

  it('403 without the role; admin and template-editor pass', async () => {
    const agent = await mintSandboxToken({ key, sub: 'a', tenant: 'roads-agency', roles: ['agent'] });
    const denied = await get(`Bearer ${agent}`);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toEqual({
      code: 'forbidden',
      message: 'this action needs one of the roles template-editor (or admin)',
      details: { required: ['template-editor'], held: ['agent'] },
    });
    for (const roles of [['template-editor'], ['admin']] as const) {
      const token = await mintSandboxToken({ key, sub: 'ed', tenant: 'immigration-dept', roles: [...roles] });
      const ok = await get(`Bearer ${token}`);
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ tenant: 'immigration-dept', sub: 'ed' });
    }
  });
});
