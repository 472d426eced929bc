import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Topics, type InboundMessageV1 } from '@wa/contracts';
import { migrate } from '@wa/persistence';
import { createTestDatabase, createTestKafka, freePort, sleep, waitFor, type TestDatabase, type TestKafka } from '@wa/testing';
import { AUTH_SECRET, events, loadSandboxSecrets, TENANTS_FILE } from '../../services/webhook-ingress/test/support/harness';
import { ingressService } from '../../services/webhook-ingress/src/service';
import { faultTable } from './support/report';
import { WebhookLoad } from './support/webhook-load';

const ROOT = join(__dirname, '..', '..');

/**
 * The webhook ingress (receiver and normalizer in one process, as the local stack runs it) is
 * killed with SIGKILL under load, mid-request and mid-batch, and started again as Kubernetes would.
 * Every webhook it acknowledged reaches the inbound topic, once.
 */
describe('fault: kill -9 of the webhook ingress under load', () => {
  let tk: TestKafka;
  let db: TestDatabase;
  let port: number;
  let child: ChildProcess | undefined;
  let output = '';

  const spawnIngress = async () => {
    const proc = spawn(process.execPath, ['-r', './tools/ts-register.cjs', 'services/webhook-ingress/src/main.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...loadSandboxSecrets(),
        ...process.env,
        NODE_ENV: 'test',
        PORT: String(port),
        LOG_LEVEL: 'fatal',
        DATABASE_URL: db.appUrl('ingress'),
        KAFKA_BROKERS: tk.options.brokers.join(','),
        KAFKA_TOPIC_PREFIX: tk.prefix,
        TENANTS_FILE,
        AUTH_MODE: 'sandbox',
        AUTH_SANDBOX_SECRET: AUTH_SECRET,
        GRAPH_BASE_URL: 'http://127.0.0.1:1',
        WEBHOOK_DURABLE_TIMEOUT_MS: '2000',
      },
    });
    proc.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    proc.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    child = proc;
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`webhook-ingress exited (${proc.exitCode}): ${output}`);
        return (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.ok;
      },
      { what: 'the ingress to be ready', timeoutMs: 120000, intervalMs: 250 },
    );
  };

  const kill = async (signal: NodeJS.Signals) => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    await exited;
  };

  beforeAll(async () => {
    tk = await createTestKafka('fault-kill');
    db = await createTestDatabase([ingressService.schema]);
    await migrate({
      schema: ingressService.schema,
      url: db.migratorUrl(ingressService.schema),
      entities: [],
      migrations: ingressService.migrations,
    });
    port = await freePort();
    await spawnIngress();
  });

  afterAll(async () => {
    await kill('SIGTERM');
    await db?.drop();
    await tk?.cleanup();
  });

  it('loses no acknowledged webhook', async () => {
    const load = new WebhookLoad(() => `http://127.0.0.1:${port}`, 'kill');
    load.start();
    await waitFor(() => load.accepted.size >= 100, { what: 'load flowing before the kill', timeoutMs: 60000 });

    const killedAt = Date.now();
    await kill('SIGKILL');
    await spawnIngress();
    const firstAcceptedAfter = await waitFor(() => load.acceptedAt.find((t) => t > killedAt), {
      what: 'a webhook accepted by the new process',
      timeoutMs: 120000,
    });
    await sleep(5000);
    await load.stop();
    const refused = load.refusals.filter((t) => t >= killedAt).length;

    const inbound = await tk.collect(Topics.inboundMessage.name);
    const seen = new Map<string, Set<string>>();
    const count = () => {
      seen.clear();
      for (const e of events<InboundMessageV1>(inbound.records)) {
        seen.set(e.data.messageId, (seen.get(e.data.messageId) ?? new Set<string>()).add(e.id));
      }
      return [...load.accepted].every((w) => seen.has(w));
    };
    await waitFor(count, { what: 'every acknowledged webhook downstream', timeoutMs: 180000, intervalMs: 1000 }).catch(() => undefined);
    count();
    const lost = [...load.accepted].filter((w) => !seen.has(w));
    const duplicates = [...seen.values()].reduce((n, ids) => n + ids.size - 1, 0);
    process.stdout.write(
      `\n${faultTable([
        {
          fault: 'kill -9 of webhook-ingress, restarted',
          load: `${load.sent} webhooks, 4 clients`,
          accepted: load.accepted.size,
          lost: lost.length,
          duplicates,
          refused,
          recoverySeconds: (firstAcceptedAfter - killedAt) / 1000,
        },
      ])}\n\n`,
    );

    expect(lost).toEqual([]);
    expect(duplicates).toBe(0);
  });
});
