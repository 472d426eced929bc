import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UNROUTED_TENANT } from '@wa/contracts';
import { MIN_WEBHOOK_SECRET_LENGTH, TenantConfigError, TenantRegistry } from './tenant-registry';

const sample = readFileSync(join(__dirname, '..', '..', '..', 'config', 'tenants.sandbox.yaml'), 'utf8');
const env = { ROADS_APP_SECRET: 'new', ROADS_APP_SECRET_PREVIOUS: 'old', IMMIGRATION_APP_SECRET: 'imm' };

describe('tenant registry', () => {
  it('loads the sandbox tenants and resolves them by phone number and WABA', () => {
    const registry = TenantRegistry.parse(sample, env);
    expect(registry.tenants.map((t) => t.id)).toEqual(['roads-agency', 'immigration-dept']);
    expect(registry.tenantByPhoneNumberId('310000000000003')?.tenant.id).toBe('immigration-dept');
    expect(registry.tenantByPhoneNumberId('310000000000003')?.phone.throughputPerSecond).toBe(80);
    expect(registry.tenantByWabaId('100000000000001')?.id).toBe('roads-agency');
    expect(registry.tenantByPhoneNumberId('999')).toBeUndefined();
  });

  it('returns both secrets during a rotation, and only the current one otherwise', () => {
    expect(TenantRegistry.parse(sample, env).appSecrets('roads-app')).toEqual(['new', 'old']);
    expect(TenantRegistry.parse(sample, { ...env, ROADS_APP_SECRET_PREVIOUS: undefined }).appSecrets('roads-app')).toEqual(['new']);
  });

  it('names a missing secret by reference, never by value', () => {
    const registry = TenantRegistry.parse(sample, {});
    expect(() => registry.appSecrets('roads-app')).toThrow('secret env:ROADS_APP_SECRET is not set');
  });

  it('rejects a bad file with every problem named', () => {
    const badField = sample.replace('defaultLanguage: es', 'defaultLanguage: EN');
    expect(() => TenantRegistry.parse(badField, env)).toThrow(TenantConfigError);
    expect(() => TenantRegistry.parse(badField, env)).toThrow(/tenants\.0\.defaultLanguage/);
    const zone = sample.replace('timeZone: Asia/Dubai', 'timeZone: Mars/Olympus').replace('id: "310000000000003"', 'id: "310000000000001"');
    expect(() => TenantRegistry.parse(zone, env)).toThrow(/unknown time zone Mars\/Olympus.*310000000000001 belongs to both/s);
    expect(() => TenantRegistry.parse('tenants: [', env)).toThrow(/not valid YAML/);
  });

  it('refuses an empty secret, from the environment or a mounted file, naming the reference', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenancy-'));
    try {
      writeFileSync(join(dir, 'empty'), '\n');
      const registry = TenantRegistry.parse(sample, { ...env, ROADS_VERIFY_TOKEN: '   ' });
      expect(() => registry.secret(`file:${join(dir, 'empty')}`)).toThrow(`secret file:${join(dir, 'empty')} is empty`);
      expect(() => registry.secret('env:ROADS_VERIFY_TOKEN')).toThrow('secret env:ROADS_VERIFY_TOKEN is empty');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('gives a webhook app its secrets and verify token only when each has at least 16 characters', () => {
    const good = {
      ROADS_APP_SECRET: '0123456789abcdef0123456789abcdef',
      ROADS_APP_SECRET_PREVIOUS: 'fedcba9876543210fedcba9876543210',
      ROADS_VERIFY_TOKEN: 'a-verify-token-16',
    };
    expect(MIN_WEBHOOK_SECRET_LENGTH).toBe(16);
    expect(TenantRegistry.parse(sample, good).webhookCredentials('roads-app')).toEqual({
      secrets: [good.ROADS_APP_SECRET, good.ROADS_APP_SECRET_PREVIOUS],
      verifyToken: good.ROADS_VERIFY_TOKEN,
    });
    const short = TenantRegistry.parse(sample, { ...good, ROADS_APP_SECRET_PREVIOUS: 'old', ROADS_VERIFY_TOKEN: '0123456789abcde' });
    let error: unknown;
    try {
      short.webhookCredentials('roads-app');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(TenantConfigError);
    expect((error as TenantConfigError).problems).toEqual([
      'previous app secret env:ROADS_APP_SECRET_PREVIOUS is 3 characters long; at least 16 are required',
      'verify token env:ROADS_VERIFY_TOKEN is 15 characters long; at least 16 are required',
    ]);
    // References only, never a value.
    expect((error as Error).message).not.toContain(good.ROADS_APP_SECRET);
    expect(() => TenantRegistry.parse(sample, {}).webhookCredentials('roads-app')).toThrow(
      /env:ROADS_APP_SECRET is not set.*env:ROADS_VERIFY_TOKEN is not set/,
    );
  });

  it('reserves the tenant id that marks records of no tenant', () => {
    const reserved = sample.replace('id: roads-agency', `id: ${UNROUTED_TENANT}`);
    expect(() => TenantRegistry.parse(reserved, env)).toThrow(/tenant id unrouted is reserved/);
  });
});
