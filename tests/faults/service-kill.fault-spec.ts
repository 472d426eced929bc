import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Topics, type InboundMessageV1 } from '@wa/contracts';
import { migrate } from '@wa/persistence';
import { createTestDatabase, createTestKafka, freePort, sleep, waitFor, type TestDatabase, type TestKafka } from '@wa/testing';
import { AUTH_SECRET, events, loadSandboxSecrets, TENANTS_FILE } from '../../services/webhook-ingress/test/support/harness';
import { ingressService } from '../../services/webhook-ingress/src/service';
import { faultTable, type FaultRow } from './support/report';
import { scaled } from './support/short';
import { WebhookLoad } from './support/webhook-load';

const ROOT = join(__dirname, '..', '..');

type Role = 'receiver' | 'normalizer';

/**
 * The webhook ingress as Kubernetes runs it — receivers (`INGRESS_CONSUMERS=false`: HTTP only) and
 * normalizers (the same main.ts with its consumers, SERVICE_WORKERS in tools/stack-services.ts) as
 * separate processes — under webhook load. Each role is killed with SIGKILL, mid-request or
 * mid-batch, and started again as Kubernetes would. Every webhook a receiver acknowledged reaches
 * the inbound topic, once.
 */
describe('fault: kill -9 of the webhook ingress roles under load', () => {
  let tk: TestKafka;
  let db: TestDatabase;
  const port: Record<Role, number> = { receiver: 0, normalizer: 0 };
  const child: Partial<Record<Role, ChildProcess>> = {};
  let output = '';
  const rows: FaultRow[] = [];

  const spawnRole = async (role: Role) => {
    const proc = spawn(process.execPath, ['-r', './tools/ts-register.cjs', 'services/webhook-ingress/src/main.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...loadSandboxSecrets(),
        ...process.env,
        NODE_ENV: 'test',
        PORT: String(port[role]),
        LOG_LEVEL: 'fatal',
        DATABASE_URL: db.appUrl('ingress'),
        KAFKA_BROKERS: tk.options.brokers.join(','),
        KAFKA_TOPIC_PREFIX: tk.prefix,
        TENANTS_FILE,
        AUTH_MODE: 'sandbox',
        AUTH_SANDBOX_SECRET: AUTH_SECRET,
        GRAPH_BASE_URL: 'http://127.0.0.1:1',
        WEBHOOK_DURABLE_TIMEOUT_MS: '2000',
        INGRESS_CONSUMERS: role === 'receiver' ? 'false' : 'true',
      },
    });
    const keep = (chunk: Buffer) => (output = (output + `[${role}] ${chunk.toString()}`).slice(-4000));
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    child[role] = proc;
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`webhook-ingress ${role} exited (${proc.exitCode}): ${output}`);
        return (await fetch(`http://127.0.0.1:${port[role]}/health/ready`).catch(() => undefined))?.ok;
      },
      { what: `the ingress ${role} to be ready`, timeoutMs: 150000, intervalMs: 250 },
    );
  };

  const kill = async (role: Role, signal: NodeJS.Signals) => {
    const proc = child[role];
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
    port.receiver = await freePort();
    port.normalizer = await freePort();
    await Promise.all([spawnRole('receiver'), spawnRole('normalizer')]);
  }, 300000);

  afterAll(async () => {
    if (rows.length > 1) process.stdout.write(`\n${faultTable(rows)}\n\n`);
    await Promise.all([kill('receiver', 'SIGTERM'), kill('normalizer', 'SIGTERM')]);
    await db?.drop();
    await tk?.cleanup();
  });

  it.each<[Role]>([['receiver'], ['normalizer']])('kill -9 of the %s loses no acknowledged webhook', async (role) => {
    const load = new WebhookLoad(() => `http://127.0.0.1:${port.receiver}`, `kill-${role}-${Date.now()}`);
    load.start();
    await waitFor(() => load.accepted.size >= scaled(100, 40), { what: 'load flowing before the kill', timeoutMs: 120000 });

    const killedAt = Date.now();
    await kill(role, 'SIGKILL');
    await spawnRole(role);
    const restartedAt = Date.now();
    // The receiver's recovery is its webhooks accepted again; the normalizer's, a new one consuming.
    const firstAcceptedAfter = await waitFor(() => load.acceptedAt.find((t) => t > killedAt), {
      what: 'a webhook accepted after the kill',
      timeoutMs: 150000,
    });
    await sleep(scaled(5000, 2000));
    await load.stop();
    const refused = load.refusals.filter((t) => t >= killedAt).length;

    const inbound = await tk.collect(Topics.inboundMessage.name);
    const seen = new Map<string, Set<string>>();
    const count = () => {
      seen.clear();
      for (const e of events<InboundMessageV1>(inbound.records)) {
        if (!load.accepted.has(e.data.messageId) && !e.data.messageId.startsWith(`wamid.kill-${role}`)) continue;
        seen.set(e.data.messageId, (seen.get(e.data.messageId) ?? new Set<string>()).add(e.id));
      }
      return [...load.accepted].every((w) => seen.has(w));
    };
    await waitFor(count, { what: 'every acknowledged webhook downstream', timeoutMs: 240000, intervalMs: 1000 }).catch(() => undefined);
    count();
    await inbound.stop();
    const lost = [...load.accepted].filter((w) => !seen.has(w));
    const duplicates = [...seen.values()].reduce((n, ids) => n + ids.size - 1, 0);
    const row: FaultRow = {
      fault: `kill -9 of the webhook-ingress ${role}${role === 'normalizer' ? ' (INGRESS_CONSUMERS on)' : ' (INGRESS_CONSUMERS=false)'}, restarted`,
      load: `${load.sent} webhooks, 4 clients`,
      accepted: load.accepted.size,
      lost: lost.length,
      duplicates,
      refused,
      recoverySeconds: (role === 'receiver' ? firstAcceptedAfter - killedAt : restartedAt - killedAt) / 1000,
    };
    rows.push(row);
    process.stdout.write(`\n${faultTable([row])}\n\n`);

    expect(lost).toEqual([]);
    expect(duplicates).toBe(0);
    // The receivers need no normalizer: they keep acknowledging while it is gone.
    if (role === 'normalizer') expect(refused).toBe(0);
  });
});
