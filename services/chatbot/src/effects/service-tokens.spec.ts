/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenVerifier } from '@wa/auth';
import { ReferencedTokenSource, SandboxTokenSource } from './service-tokens';

describe('service tokens for the media API', () => {
  it('sandbox: signs a short-lived token of the tenant that the platform verifier accepts, and reuses it', async () => {
    const key = Buffer.from('chatbot-unit-tests-sandbox-signing-key-0123456789');
    const source = new SandboxTokenSource(key);
    const token = await source.token('roads-agency');
    expect(await source.token('roads-agency')).toBe(token);
    expect(await source.token('immigration-dept')).not.toBe(token);
    const verifier = new TokenVerifier({
      mode: 'sandbox',
      issuer: 'urn:wa-gov:sandbox',
      audience: 'wa-gov-platform',
      algorithms: ['HS256'],
      sandboxKey: key,
      tenantClaim: 'tenant',
      rolesClaim: 'roles',
    });
    const principal = await verifier.verify(token);
    expect(principal).toMatchObject({ sub: 'service:chatbot', tenant: 'roads-agency', roles: ['service'] });
    expect(principal.expiresAt!.getTime() - Date.now()).toBeLessThanOrEqual(15 * 60_000 + 1000);
  });

  it('oidc: reads the tenant’s token from the reference on every call', async () => {
    const fromEnv = new ReferencedTokenSource('env:MEDIA_TOKEN_{TENANT}', { MEDIA_TOKEN_ROADS_AGENCY: 'tok-roads' });
    expect(await fromEnv.token('roads-agency')).toBe('tok-roads');
    await expect(fromEnv.token('immigration-dept')).rejects.toThrow('env:MEDIA_TOKEN_IMMIGRATION_DEPT is not set');
    const dir = mkdtempSync(join(tmpdir(), 'tokens-'));
    const fromFile = new ReferencedTokenSource(`file:${dir}/media-{TENANT}`);
    writeFileSync(join(dir, 'media-ROADS_AGENCY'), 'first\n');
    expect(await fromFile.token('roads-agency')).toBe('first');
    writeFileSync(join(dir, 'media-ROADS_AGENCY'), 'rotated\n');
    expect(await fromFile.token('roads-agency')).toBe('rotated');
  });
});
