import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TenantConfigError, TenantRegistry } from './tenant-registry';

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
});
