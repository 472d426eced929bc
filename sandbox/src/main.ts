// The Cloud API simulator as a process: `node -r ./tools/ts-register.cjs sandbox/src/main.ts`.
// Started by the stack command in sandbox mode (port 3100, webhooks to the ingress on 3001).
//   SANDBOX_STATE_DIR        where it keeps templates, windows... across restarts (default .local/sandbox)
//   SANDBOX_ENFORCE_WINDOW   false: free-form messages outside the 24-hour window are delivered anyway
//   SANDBOX_STATUS_BATCH     true: status webhooks due together share one POST (default: one per POST)
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TenantRegistry } from '@wa/tenancy';
import { buildSandbox } from './server';
import type { SandboxContext } from './sandbox-context';
import { WebhookSender } from './webhook-sender';

/** The sample tenants' sandbox-only secrets; the real environment wins. */
function sandboxSecrets(path = 'deploy/local/sandbox.env'): Record<string, string> {
  if (!existsSync(path)) return {};
  return Object.fromEntries(
    readFileSync(path, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#') && line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

function fail(message: string): never {
  process.stderr.write(`cloud-api-sandbox: refusing to start.\n  - ${message}\n`);
  process.exit(78); // EX_CONFIG
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3100);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`PORT (${JSON.stringify(process.env.PORT)}): must be 0..65535 (0 = any free port)`);
  const ingressUrl = process.env.INGRESS_URL ?? 'http://127.0.0.1:3001';
  if (!/^https?:\/\/[^\s/]+\/?$/.test(ingressUrl)) fail(`INGRESS_URL (${JSON.stringify(ingressUrl)}): must be an http(s) origin`);
  const tenantsFile = process.env.TENANTS_FILE ?? 'config/tenants.sandbox.yaml';
  let tenants: TenantRegistry;
  try {
    tenants = TenantRegistry.load(tenantsFile, { ...sandboxSecrets(), ...process.env });
  } catch (error) {
    fail(`TENANTS_FILE (${tenantsFile}): ${(error as Error).message}`);
  }
  const flag = (name: string): boolean | undefined => {
    const value = process.env[name];
    if (value === undefined || value === '') return undefined;
    if (value !== 'true' && value !== 'false') fail(`${name} (${JSON.stringify(value)}): must be true or false`);
    return value === 'true';
  };
  const enforceWindow = flag('SANDBOX_ENFORCE_WINDOW');
  const batch = flag('SANDBOX_STATUS_BATCH');
  const stateDir = resolve(process.env.SANDBOX_STATE_DIR || '.local/sandbox');
  const context: SandboxContext = {
    tenants,
    webhooks: new WebhookSender(ingressUrl),
    webhookPath: (appId) => `/webhooks/whatsapp/${appId}`,
    stateDir,
    messages: {
      ...(enforceWindow === undefined ? {} : { enforceWindow }),
      ...(batch === undefined ? {} : { statuses: { batch } }),
    },
  };
  const app = await buildSandbox(context);
  await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' });
  const bound = (app.server.address() as { port: number }).port;
  process.stdout.write(`cloud-api-sandbox listening on http://127.0.0.1:${bound}, webhooks to ${ingressUrl}, state in ${stateDir}\n`);
  const stop = () => {
    void app.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error) => {
  process.stderr.write(`cloud-api-sandbox failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
