import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Topics } from '@wa/contracts';
import { migrate } from '@wa/persistence';
import { createTestDatabase, createTestKafka, waitFor, type Collector, type TestDatabase, type TestKafka } from '@wa/testing';
import { ingressService } from '../src/service';
import { fixtureText } from './support/fixtures';
import { freePort } from '@wa/testing';
import { loadSandboxSecrets, postSigned, ROOT, TENANTS_FILE } from './support/harness';

/**
 * The ingress as main.ts starts it (tracing first): a webhook stays one trace from Meta's request
 * through the raw record and the batch normalizer to the typed event.
 */
describe('trace continuity through the ingress', () => {
  let tk: TestKafka;
  let db: TestDatabase;
  const children: ChildProcess[] = [];
  let url: string;
  let receiverUrl: string;
  let raw: Collector;
  let inbound: Collector;

  /** main.ts in a child process, as production starts it; resolves with its URL once ready. */
  async function startIngress(extraEnv: Record<string, string> = {}): Promise<string> {
    const port = await freePort();
    children.push(
      spawn(process.execPath, ['-r', './tools/ts-register.cjs', 'services/webhook-ingress/src/main.ts'], {
        cwd: ROOT,
        env: {
          ...process.env,
          ...loadSandboxSecrets(),
          PORT: String(port),
          DATABASE_URL: db.appUrl('ingress'),
          KAFKA_BROKERS: tk.options.brokers.join(','),
          KAFKA_TOPIC_PREFIX: tk.prefix,
          TENANTS_FILE,
          LOG_LEVEL: 'error',
          AUTH_SANDBOX_SECRET: 'trace-test-signing-key-0123456789abcdef',
          ...extraEnv,
        },
        stdio: 'ignore',
      }),
    );
    const started = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${started}/health/ready`).catch(() => undefined))?.ok, { timeoutMs: 90000, intervalMs: 300 });
    return started;
  }

  const post = async (target: string, fixture: string, traceId: string): Promise<number> =>
    (await postSigned(target, fixtureText(fixture), { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` })).status;

  beforeAll(async () => {
    tk = await createTestKafka('ingress-trace');
    db = await createTestDatabase(['ingress']);
    await migrate({ schema: 'ingress', url: db.migratorUrl('ingress'), entities: [], migrations: ingressService.migrations });
    // A full replica (receiver + normalizer) and a receiver-only one, which runs without
    // AsyncLocalStorage (receiver-role.ts): its webhook route must carry the trace explicitly.
    [url, receiverUrl] = await Promise.all([startIngress(), startIngress({ INGRESS_CONSUMERS: 'false' })]);
    raw = await tk.collect(Topics.webhookRaw.name);
    inbound = await tk.collect(Topics.inboundMessage.name);
  });

  afterAll(async () => {
    await Promise.all(
      children
        .filter((child) => child.exitCode === null)
        .map((child) => {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          return exited;
        }),
    );
    await db?.drop();
    await tk?.cleanup();
  });

  it('continues the caller’s trace into the raw record and the normalized event', async () => {
    const traceId = randomBytes(16).toString('hex');
    expect(await post(url, 'text', traceId)).toBe(200);
    const rawRecord = await waitFor(() => raw.records.find((r) => r.value?.includes('wamid.TEXT1')), { timeoutMs: 30000 });
    const event = await waitFor(() => inbound.records.find((r) => r.value?.includes('wamid.TEXT1')), { timeoutMs: 60000 });
    expect(rawRecord.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-`));
    expect(event.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-`));
  });

  it('keeps the trace on a receiver-only replica (no async context): raw record, then the normalizer’s event', async () => {
    const traceId = randomBytes(16).toString('hex');
    expect(await post(receiverUrl, 'image-with-url', traceId)).toBe(200);
    const rawRecord = await waitFor(() => raw.records.find((r) => r.headers.traceparent?.includes(traceId)), { timeoutMs: 30000 });
    expect(rawRecord.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const event = await waitFor(() => inbound.records.find((r) => r.headers.traceparent?.includes(traceId)), { timeoutMs: 60000 });
    expect(event.value).toContain('"image"');
  });
});
