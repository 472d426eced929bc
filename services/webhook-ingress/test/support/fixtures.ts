import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TenantRegistry } from '@wa/tenancy';

export const FIXTURES_DIR = join(__dirname, '..', 'fixtures');
const TENANTS_YAML = join(__dirname, '..', '..', '..', '..', 'config', 'tenants.sandbox.yaml');

// `<name>.json` fixtures are pretty-printed for reading; `<name>.meta-bytes` hold a body byte for
// byte as Meta sends it (compact, non-ASCII as \u escapes) and stay out of the formatter's reach.
const FIXTURE_FILE = /^(.+)\.(json|meta-bytes)$/;

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES_DIR)
    .map((f) => FIXTURE_FILE.exec(f)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

/** The exact bytes of a fixture file (what a test signs and posts). */
export function fixtureBytes(name: string): Buffer {
  const file = readdirSync(FIXTURES_DIR).find((f) => FIXTURE_FILE.exec(f)?.[1] === name);
  if (!file) throw new Error(`no fixture ${name}`);
  return readFileSync(join(FIXTURES_DIR, file));
}

export function fixtureText(name: string): string {
  return fixtureBytes(name).toString('utf8');
}

/** The sandbox tenants: roads-agency (roads-app) and immigration-dept (immigration-app). */
export function sandboxRegistry(env: Record<string, string | undefined> = {}): TenantRegistry {
  return TenantRegistry.parse(readFileSync(TENANTS_YAML, 'utf8'), env);
}

/** The same tenants served by one app, as when one Meta app has both WABAs subscribed. */
export function sharedAppRegistry(): TenantRegistry {
  return TenantRegistry.parse(readFileSync(TENANTS_YAML, 'utf8').replace('appId: immigration-app', 'appId: roads-app'), {});
}
