import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TenantConfigError } from '@wa/tenancy';
import type { IngressEnv } from '../src/config/env';
import { loadIngressTenants } from '../src/tenants/ingress-tenants';

const ROOT = join(__dirname, '..', '..', '..');
const TENANTS_FILE = join(ROOT, 'config', 'tenants.sandbox.yaml');
/** The shipped sandbox secrets (deploy/local/sandbox.env). */
const SANDBOX: Record<string, string> = Object.fromEntries(
  readFileSync(join(ROOT, 'deploy', 'local', 'sandbox.env'), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);
const withFile = (file = TENANTS_FILE) => ({ TENANTS_FILE: file, NODE_ENV: 'test' }) as IngressEnv;

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TenantConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the tenants to be refused');
}

describe('the ingress refuses to start with webhook secrets that protect nothing', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'ingress-tenants-'))));
  afterAll(() => rmSync(dir, { recursive: true }));

  it('starts with the shipped sandbox secrets (deploy/local/sandbox.env), with and without TENANTS_FILE', () => {
    expect(loadIngressTenants({ NODE_ENV: 'test' } as IngressEnv, {}).appIds).toEqual(['roads-app', 'immigration-app']);
    expect(loadIngressTenants(withFile(), { ...SANDBOX }).webhookCredentials('immigration-app').secrets).toEqual([
      SANDBOX.IMMIGRATION_APP_SECRET,
    ]);
  });

  it('names the reference of a short app secret or verify token, never its value', () => {
    const message = refusal(() =>
      loadIngressTenants(withFile(), { ...SANDBOX, ROADS_APP_SECRET: 'abc123', IMMIGRATION_VERIFY_TOKEN: 'token' }),
    );
    expect(message).toContain('app roads-app: app secret env:ROADS_APP_SECRET is 6 characters long; at least 16 are required');
    expect(message).toContain('app immigration-app: verify token env:IMMIGRATION_VERIFY_TOKEN is 5 characters long');
    expect(message).not.toContain('abc123');
  });

  it('refuses an empty mounted secret file (an HMAC keyed with nothing verifies forged webhooks)', () => {
    const empty = join(dir, 'roads-app-secret');
    writeFileSync(empty, '\n');
    const file = join(dir, 'tenants.yaml');
    writeFileSync(file, readFileSync(TENANTS_FILE, 'utf8').replace('appSecretRef: env:ROADS_APP_SECRET', `appSecretRef: file:${empty}`));
    expect(refusal(() => loadIngressTenants(withFile(file), { ...SANDBOX }))).toContain(`app roads-app: secret file:${empty} is empty`);
  });

  it('checks every app in the file, also one that serves no tenant yet', () => {
    const file = join(dir, 'spare-app.yaml');
    writeFileSync(
      file,
      readFileSync(TENANTS_FILE, 'utf8').replace(
        'tenants:\n',
        '  - id: spare-app\n    appSecretRef: env:SPARE_APP_SECRET\n    verifyTokenRef: env:SPARE_VERIFY_TOKEN\ntenants:\n',
      ),
    );
    const message = refusal(() => loadIngressTenants(withFile(file), { ...SANDBOX, SPARE_APP_SECRET: 'short' }));
    expect(message).toContain('app spare-app: app secret env:SPARE_APP_SECRET is 5 characters long');
    expect(message).toContain('app spare-app: secret env:SPARE_VERIFY_TOKEN is not set');
  });
});
