import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintSandboxToken, type Role } from '@wa/auth';
import { ALL_TOPICS, decodeEvent } from '@wa/contracts';
import type { ServiceDescriptor } from '@wa/service-kit';
import { startTestService, waitFor, type TestDatabase, type TestKafka, type TestService } from '@wa/testing';
import { AppModule } from '../../src/app.module';
import type { IngressEnv } from '../../src/config/env';
import { ingressService } from '../../src/service';
import { signatureOf } from '../../src/webhook/signature';

export const ROOT = join(__dirname, '..', '..', '..', '..');
/** Sandbox-mode signing key for the media API's bearer tokens in tests. */
export const AUTH_SECRET = 'ingress-test-signing-key-0123456789abcdef';

/** A bearer token of a tenant, as the chatbot or an agent would hold. */
export async function bearer(tenant: string, roles: Role[] = ['agent']): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await mintSandboxToken({ key: Buffer.from(AUTH_SECRET), sub: `test:${tenant}`, tenant, roles })}` };
}
export const TENANTS_FILE = join(ROOT, 'config', 'tenants.sandbox.yaml');

/** The sample tenants' sandbox secrets (deploy/local/sandbox.env), put into process.env for the registry. */
export function loadSandboxSecrets(): Record<string, string> {
  const secrets = Object.fromEntries(
    readFileSync(join(ROOT, 'deploy', 'local', 'sandbox.env'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#') && l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  for (const [k, v] of Object.entries(secrets)) process.env[k] ??= v;
  return secrets;
}

export interface Sandbox {
  url: string;
  process: ChildProcess;
  close(): Promise<void>;
}

/**
 * The Cloud API simulator as the stack runs it: its own process (sandbox/src/main.ts), so the
 * service's tests use it over HTTP exactly as the ingress meets Meta, and import none of its code.
 */
export async function startSandbox(ingressUrl: string, port = 0): Promise<Sandbox> {
  // Its own state directory: the stack's (.local/sandbox) is not this test's to read or change.
  const stateDir = mkdtempSync(join(tmpdir(), 'ingress-sandbox-'));
  const child = spawn(process.execPath, ['-r', './tools/ts-register.cjs', 'sandbox/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), INGRESS_URL: ingressUrl, TENANTS_FILE, HOST: '127.0.0.1', SANDBOX_STATE_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`sandbox exited (${child.exitCode}): ${output}`);
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      return match?.[1];
    },
    { timeoutMs: 30000, intervalMs: 100, what: 'the sandbox to listen' },
  );
  return {
    url,
    process: child,
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

export interface IngressOptions {
  /** Where the media fetch path finds the Graph API (the sandbox). */
  graphApiBaseUrl?: string;
  db?: TestDatabase;
  env?: Record<string, string>;
  descriptor?: ServiceDescriptor<IngressEnv>;
}

/** The ingress booted as main.ts boots it, on the test's Kafka namespace. */
export async function startIngress(tk: TestKafka, options: IngressOptions = {}): Promise<TestService> {
  loadSandboxSecrets();
  return startTestService(options.descriptor ?? ingressService, (env) => AppModule.forRoot(env), tk, {
    db: options.db,
    env: {
      TENANTS_FILE,
      AUTH_MODE: 'sandbox',
      AUTH_SANDBOX_SECRET: AUTH_SECRET,
      GRAPH_BASE_URL: options.graphApiBaseUrl ?? 'http://127.0.0.1:1',
      ...options.env,
    },
  });
}

export interface SandboxReply {
  delivery: { id: string; state: string; attempts?: number; statuses?: number[]; wamids: string[] };
  payload: unknown;
}

export async function sandboxPost(sandbox: Sandbox, path: string, body: unknown): Promise<{ status: number; json: SandboxReply }> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as SandboxReply };
}

export interface Event<T = Record<string, unknown>> {
  id: string;
  key: string | null;
  data: T;
}

/** Decodes collected records as consumers do (the topic named by ce_type; validated). */
export function events<T = Record<string, unknown>>(
  records: { key: string | null; value: string | null; headers: Record<string, string> }[],
): Event<T>[] {
  return records.map((r) => {
    const spec = ALL_TOPICS.find((topic) => topic.types[r.headers.ce_type]);
    if (!spec) throw new Error(`no topic carries ${r.headers.ce_type}`);
    return { id: r.headers.ce_id, key: r.key, data: decodeEvent(spec, r.value, r.headers).data as T };
  });
}

/** The roads agency app's sandbox secret (deploy/local/sandbox.env). */
export const ROADS_SECRET = 'sandbox-roads-app-secret';

/** POSTs a body to the roads app's webhook, signed as Meta signs it (plus any other headers, e.g. a traceparent). */
export function postSigned(ingressUrl: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${ingressUrl}/webhooks/whatsapp/roads-app`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signatureOf(ROADS_SECRET, body), ...headers },
    body,
  });
}

/** A roads-agency `messages` webhook with citizen texts (body = wamid) and statuses. */
export function roadsWebhook(wamids: string[], statuses: [string, string][] = []): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '100000000000001',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '5716010100', phone_number_id: '310000000000001' },
              contacts: [{ profile: { name: 'Ana' }, wa_id: '573001234567' }],
              messages: wamids.map((id) => ({ from: '573001234567', id, timestamp: '1767225600', type: 'text', text: { body: id } })),
              statuses: statuses.map(([id, status]) => ({ id, status, timestamp: '1767225700', recipient_id: '573001234567' })),
            },
          },
        ],
      },
    ],
  });
}
