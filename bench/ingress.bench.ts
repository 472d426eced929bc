// npm run bench:ingress
//
// The webhook ingress under load, next to its ceiling. On loopback, autocannon posts signed,
// realistic WhatsApp webhooks (statuses, citizen messages, small batches; unique wamids) to:
//   - a bare NestJS + Fastify endpoint that answers 200 and does nothing (the ceiling), and
//   - the real ingress (its main.ts: signature check, JSON parse, Kafka acks=all before the 200,
//     with its own consumers normalizing in the same process),
// in alternating rounds, then prints req/s, p50/p99 and the ratio, and checks that every 2xx the
// ingress gave is a record on Kafka. Each server runs in its own process; autocannon runs here.
//
// INGRESS_CONSUMERS=false benchmarks a receiver-only replica (normalizers deployed apart).
// BENCH_REPLICAS=n runs n ingress processes and n bare ones (each its own port, the connections
// split between them), as n replicas on the machine's cores: the ratio is then n against n.
// Knobs (env): BENCH_SECONDS (per round, default 15), BENCH_ROUNDS (default 2), BENCH_CONNECTIONS (default 64),
// BENCH_INGRESS_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=.local/prof" to profile the ingress),
// BENCH_BASELINE_NODE_ARGS (the same for the bare endpoint, to compare profiles).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Topics } from '@wa/contracts';
import { migrate } from '@wa/persistence';
import { createTestDatabase, createTestKafka, infraEnv, waitFor } from '@wa/testing';
import { ingressService } from '../services/webhook-ingress/src/service';

const ROOT = join(__dirname, '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const WARMUP_REQUESTS = 5000;
const REPLICAS = Math.max(1, Number(process.env.BENCH_REPLICAS ?? 1));

// ---------------------------------------------------------------------------------------------
// The ceiling: a bare NestJS + Fastify app in its own process (`--baseline-server`).
// ---------------------------------------------------------------------------------------------
async function baselineServer(): Promise<void> {
  const { Controller, HttpCode, Module, Post } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');

  @Controller('webhooks/whatsapp')
  class BareController {
    @Post(':appId')
    @HttpCode(200)
    receive(): void {}
  }
  @Module({ controllers: [BareController] })
  class BareModule {}

  const app = await NestFactory.create(BareModule, new FastifyAdapter({ bodyLimit: 4 * 1024 * 1024 }), { logger: false });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  // A clean exit on stop, so that --cpu-prof (BENCH_BASELINE_NODE_ARGS) writes its profile.
  process.once('SIGTERM', () => process.exit(0));
  process.stdout.write('baseline ready\n');
}

// ---------------------------------------------------------------------------------------------
// Realistic signed payloads.
// ---------------------------------------------------------------------------------------------
const ROADS_SECRET = readFileSync(join(ROOT, 'deploy', 'local', 'sandbox.env'), 'utf8').match(/^ROADS_APP_SECRET=(.*)$/m)![1];

/** Meta's bytes: non-ASCII as \uXXXX escapes. */
function metaJson(payload: unknown): string {
  return JSON.stringify(payload).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const TEXTS = [
  'Hola, ¿cuándo vence mi licencia de conducción?',
  'Quiero renovar el SOAT del vehículo ABC123',
  'متى تنتهي صلاحية رخصتي؟ 🙏',
  'Ok gracias 👍',
  'Buenos días, necesito un certificado de tradición del vehículo para venderlo. ¿Cómo lo solicito en línea?',
];

let sequence = 0;

/** ~60% statuses, ~30% citizen messages, ~10% batches of five, as an ingress sees them (statuses ≈ 3x inbound). */
function nextBody(): string {
  const n = sequence++;
  const citizen = `5730${String(10000000 + (n % 50000)).padStart(8, '0')}`;
  const metadata = { display_phone_number: '5716010100', phone_number_id: '310000000000001' };
  const status = (i: number, state: string) => ({
    id: `wamid.BENCH.OUT.${n}.${i}`,
    status: state,
    timestamp: String(1767225600 + n),
    recipient_id: citizen,
    ...(state !== 'read' ? { pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'utility' } } : {}),
    biz_opaque_callback_data: `reminder:${n}:T-42d`,
  });
  const kind = n % 10;
  let value: Record<string, unknown>;
  if (kind < 6) {
    value = { messaging_product: 'whatsapp', metadata, statuses: [status(0, ['sent', 'delivered', 'read'][n % 3])] };
  } else if (kind < 9) {
    value = {
      messaging_product: 'whatsapp',
      metadata,
      contacts: [{ profile: { name: 'Ana María' }, wa_id: citizen }],
      messages: [
        {
          from: citizen,
          id: `wamid.BENCH.IN.${n}`,
          timestamp: String(1767225600 + n),
          type: 'text',
          text: { body: TEXTS[n % TEXTS.length] },
        },
      ],
    };
  } else {
    value = { messaging_product: 'whatsapp', metadata, statuses: [0, 1, 2, 3, 4].map((i) => status(i, 'delivered')) };
  }
  return metaJson({ object: 'whatsapp_business_account', entry: [{ id: '100000000000001', changes: [{ field: 'messages', value }] }] });
}

// ---------------------------------------------------------------------------------------------
// Harness.
// ---------------------------------------------------------------------------------------------
interface Autocannon {
  (options: Record<string, unknown>): Promise<AutocannonResult>;
}
interface AutocannonResult {
  duration: number;
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats: Record<string, { count: number }>;
}
// autocannon ships no types; this is the slice of its API used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function startProcess(args: string[], env: Record<string, string>, nodeArgs: string[] = []): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [...nodeArgs, '-r', './tools/ts-register.cjs', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20000)));
  child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20000)));
  return { child, output: () => output };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/**
 * A fixed number of requests rather than a duration: a timed run abandons the requests in flight
 * when the clock stops, which the server may well have answered (and stored) after all, and the
 * 2xx count would then undercount what reached Kafka.
 */
async function load(urls: string[], amount: number, overallRate?: number): Promise<AutocannonResult> {
  // Signed ahead of the run: the load generator shares the two cores with the servers, so it
  // should spend its time sending, not hashing. Every request is a distinct webhook.
  const requests = Array.from({ length: amount }, () => {
    const body = nextBody();
    const signature = `sha256=${createHmac('sha256', ROADS_SECRET).update(body).digest('hex')}`;
    return { body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature } };
  });
  let next = 0;
  const started = process.hrtime.bigint();
  // One autocannon per replica, the connections, requests and rate split evenly between them.
  const share = (total: number, i: number) => Math.floor(total / urls.length) + (i < total % urls.length ? 1 : 0);
  const results = await Promise.all(
    urls.map((url, i) =>
      autocannon({
        url,
        connections: share(CONNECTIONS, i),
        amount: share(amount, i),
        // autocannon ends a run at its next sample tick after the last response: at the default
        // 1 s a 2.4 s round lasted 3 s and rates came out as whole-second fractions of the truth.
        sampleInt: 10,
        ...(overallRate ? { overallRate: overallRate / urls.length } : {}),
        requests: [
          {
            method: 'POST',
            path: '/webhooks/whatsapp/roads-app',
            setupRequest: (request: Record<string, unknown>) => ({ ...request, ...requests[next++ % requests.length] }),
          },
        ],
      }),
    ),
  );
  const result = results.length === 1 ? results[0] : combined(results);
  wallSeconds.set(result, Number(process.hrtime.bigint() - started) / 1e9);
  return result;
}

/** Several replicas' results as one: counts add up; p50 is the median replica's, p99 and max the worst replica's. */
function combined(results: AutocannonResult[]): AutocannonResult {
  const sum = (pick: (r: AutocannonResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  const worst = (pick: (r: AutocannonResult) => number) => Math.max(...results.map(pick));
  return {
    duration: worst((r) => r.duration),
    requests: { average: sum((r) => r.requests.average), total: sum((r) => r.requests.total) },
    latency: {
      p50: median(results.map((r) => r.latency.p50)),
      p99: worst((r) => r.latency.p99),
      average:
        sum((r) => r.latency.average * r.requests.total) /
        Math.max(
          1,
          sum((r) => r.requests.total),
        ),
      max: worst((r) => r.latency.max),
    },
    '2xx': sum((r) => r['2xx']),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    statusCodeStats: {},
  };
}

/** CPU seconds a process has used so far (user + system), from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return undefined;
  }
}

function brokerPid(): number | undefined {
  try {
    return Number(readFileSync(join(ROOT, '.local', 'kafka', 'kafka.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
// autocannon reports whole seconds; the wall clock around each run is finer.
const wallSeconds = new WeakMap<AutocannonResult, number>();
const rateOf = (r: AutocannonResult) => (r['2xx'] + r.non2xx) / (wallSeconds.get(r) ?? r.duration);

/** p50/p99 bucket bounds of webhook_durable_wait_seconds{outcome="stored"} from the ingress's /metrics. */
async function ackWait(ingressUrl: string): Promise<string> {
  const text = await (await fetch(`${ingressUrl}/metrics`)).text();
  const buckets = [...text.matchAll(/^webhook_durable_wait_seconds_bucket\{le="([^"]+)",[^}]*outcome="stored"[^}]*\} (\d+)/gm)].map(
    (m) => ({
      le: m[1],
      count: Number(m[2]),
    }),
  );
  const total = buckets.find((b) => b.le === '+Inf')?.count ?? 0;
  if (total === 0) return 'n/a';
  const at = (q: number) => buckets.find((b) => b.count >= q * total)?.le ?? '+Inf';
  const ms = (le: string) => (le === '+Inf' ? '> 2500 ms' : `<= ${Number(le) * 1000} ms`);
  return `p50 ${ms(at(0.5))}, p99 ${ms(at(0.99))} (${total} records)`;
}

async function main(): Promise<void> {
  if (process.argv.includes('--baseline-server')) return baselineServer();

  const tk = await createTestKafka('bench');
  const db = await createTestDatabase(['ingress']);
  await migrate({ schema: 'ingress', url: db.migratorUrl('ingress'), entities: [], migrations: ingressService.migrations });
  const secrets = Object.fromEntries(
    readFileSync(join(ROOT, 'deploy', 'local', 'sandbox.env'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

  const ingresses: { child: ChildProcess; output: () => string }[] = [];
  const baselines: { child: ChildProcess; output: () => string }[] = [];
  const ingressUrls: string[] = [];
  const baselineUrls: string[] = [];
  for (let replica = 0; replica < REPLICAS; replica++) {
    const ingressPort = await freePort();
    const baselinePort = await freePort();
    ingresses.push(
      startProcess(
        ['services/webhook-ingress/src/main.ts'],
        {
          ...secrets,
          // As the local stack runs it (production would need an OIDC issuer for the media API's tokens).
          NODE_ENV: 'development',
          AUTH_SANDBOX_SECRET: 'bench-only-signing-key-0123456789abcdef',
          PORT: String(ingressPort),
          DATABASE_URL: db.appUrl('ingress'),
          KAFKA_BROKERS: infraEnv().brokers.join(','),
          KAFKA_TOPIC_PREFIX: tk.prefix,
          TENANTS_FILE: join(ROOT, 'config', 'tenants.sandbox.yaml'),
          LOG_LEVEL: 'warn',
        },
        (process.env.BENCH_INGRESS_NODE_ARGS ?? '').split(' ').filter(Boolean),
      ),
    );
    baselines.push(
      startProcess(
        [__filename, '--baseline-server'],
        { PORT: String(baselinePort) },
        (process.env.BENCH_BASELINE_NODE_ARGS ?? '').split(' ').filter(Boolean),
      ),
    );
    ingressUrls.push(`http://127.0.0.1:${ingressPort}`);
    baselineUrls.push(`http://127.0.0.1:${baselinePort}`);
  }
  const ingressUrl = ingressUrls[0];
  /** CPU seconds of a group of processes together. */
  const cpuOf = (group: { child: ChildProcess }[]) => group.reduce((total, p) => total + (cpuSeconds(p.child.pid) ?? 0), 0);

  const consumers = process.env.INGRESS_CONSUMERS !== 'false';
  const pg = new Client({ connectionString: db.appUrl('ingress') });
  await pg.connect();

  async function rawOnKafka(): Promise<number> {
    const admin = tk.kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(`${tk.prefix}${Topics.webhookRaw.name}`)).reduce((sum, o) => sum + Number(o.high), 0);
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Waits until the ingress's own consumers have archived every raw record and published every
   * normalized event, so their catch-up work does not run into the next ceiling round.
   */
  async function drained(): Promise<{ records: number; seconds: number }> {
    if (!consumers) return { records: 0, seconds: 0 };
    const started = Date.now();
    const total = await rawOnKafka();
    const archived = async () => Number((await pg.query('SELECT count(*) AS n FROM ingress.raw_webhook')).rows[0].n);
    const backlog = total - (await archived());
    await waitFor(
      async () =>
        (await archived()) >= total &&
        Number((await pg.query('SELECT count(*) AS n FROM ingress.outbox WHERE published_at IS NULL')).rows[0].n) === 0,
      { timeoutMs: 600000, intervalMs: 250, what: 'the normalizer to catch up' },
    );
    return { records: backlog, seconds: (Date.now() - started) / 1000 };
  }

  try {
    for (const [i, url] of ingressUrls.entries()) {
      await waitFor(async () => (await fetch(`${url}/health/ready`).catch(() => undefined))?.ok, {
        timeoutMs: 120000,
        intervalMs: 500,
        what: `the ingress to be ready\n${ingresses[i].output()}`,
      });
    }
    for (const baseline of baselines)
      await waitFor(() => baseline.output().includes('baseline ready'), { timeoutMs: 60000, intervalMs: 200, what: 'the baseline' });

    console.log(
      `\nbench:ingress  ${ROUNDS} rounds x ${SECONDS} s per target, ${CONNECTIONS} connections, loopback, ${cpus().length} cores` +
        (REPLICAS > 1 ? `, ${REPLICAS} processes per target (connections split; p99 = the worst process's)` : ''),
    );
    console.log('payloads: signed, Meta-escaped; 60% single statuses, 30% citizen texts (some Arabic/emoji), 10% batches of 5 statuses\n');

    let ingress2xx = 0;
    let ingressNon2xx = 0;
    // Warm-ups (JIT, connections, consumer group) also size the rounds to about SECONDS each.
    const warmIngress = await load(ingressUrls, WARMUP_REQUESTS);
    ingress2xx += warmIngress['2xx'];
    ingressNon2xx += warmIngress.non2xx;
    const warmBaseline = await load(baselineUrls, WARMUP_REQUESTS);
    const ingressAmount = Math.round(rateOf(warmIngress) * SECONDS);
    const baselineAmount = Math.round(rateOf(warmBaseline) * SECONDS);

    const drains: { records: number; seconds: number }[] = [];
    await drained(); // the warm-up's backlog must not leak into the first ceiling round
    const rows: { target: string; round: number; r: AutocannonResult }[] = [];
    // CPU time per request of each server process (and of the broker during the ingress rounds):
    // unlike req/s, it hardly depends on what else the machine is running.
    const cpu = { bare: 0, ingress: 0, broker: 0, bareRequests: 0, ingressRequests: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      let before = cpuOf(baselines);
      const b = await load(baselineUrls, baselineAmount);
      cpu.bare += cpuOf(baselines) - before;
      cpu.bareRequests += b['2xx'] + b.non2xx;
      rows.push({ target: 'bare Nest+Fastify', round, r: b });
      before = cpuOf(ingresses);
      const brokerBefore = cpuSeconds(brokerPid());
      const r = await load(ingressUrls, ingressAmount);
      drains.push(await drained());
      cpu.ingress += cpuOf(ingresses) - before;
      cpu.broker += (cpuSeconds(brokerPid()) ?? 0) - (brokerBefore ?? 0);
      cpu.ingressRequests += r['2xx'] + r.non2xx;
      ingress2xx += r['2xx'];
      ingressNon2xx += r.non2xx;
      rows.push({ target: 'webhook-ingress', round, r });
    }

    console.log('target              round   req/s     p50 ms  p99 ms  max ms   2xx        non-2xx  errors');
    for (const { target, round, r } of rows) {
      console.log(
        `${target.padEnd(20)}${String(round).padEnd(8)}${fmt(rateOf(r)).padStart(7)}   ${fmt(r.latency.p50, 1).padStart(6)}  ${fmt(r.latency.p99, 1).padStart(6)}  ${fmt(r.latency.max).padStart(6)}   ${String(r['2xx']).padEnd(11)}${String(r.non2xx).padEnd(9)}${r.errors + r.timeouts}`,
      );
    }
    const of = (target: string) => rows.filter((row) => row.target === target).map((row) => row.r);
    const bare = of('bare Nest+Fastify');
    const real = of('webhook-ingress');
    const bareRps = median(bare.map(rateOf));
    const realRps = median(real.map(rateOf));
    const realP50 = median(real.map((r) => r.latency.p50));
    const realP99 = median(real.map((r) => r.latency.p99));
    const ratio = realRps / bareRps;
    console.log(
      `\nmedian of rounds: ceiling ${fmt(bareRps)} req/s, ingress ${fmt(realRps)} req/s, p50 ${fmt(realP50, 1)} ms, p99 ${fmt(realP99, 1)} ms`,
    );
    console.log(`ratio ingress/ceiling: ${ratio.toFixed(2)}   (goal >= 0.60: ${ratio >= 0.6 ? 'met' : 'NOT met'})`);
    console.log(`ingress p99 at that rate: ${fmt(realP99, 1)} ms   (goal <= 50 ms: ${realP99 <= 50 ? 'met' : 'NOT met'})`);
    if (consumers) {
      const backlog = drains.reduce((sum, d) => sum + d.records, 0);
      const seconds = drains.reduce((sum, d) => sum + d.seconds, 0);
      console.log(
        `normalizer (same process): ${fmt(backlog)} raw records still to archive/normalize after the rounds, caught up in ${fmt(seconds, 1)} s`,
      );
    }

    if (cpu.bareRequests && cpu.ingressRequests) {
      const us = (seconds: number, requests: number) => fmt((seconds / requests) * 1e6);
      console.log(
        `CPU per request: bare ${us(cpu.bare, cpu.bareRequests)} µs; ingress ${us(cpu.ingress, cpu.ingressRequests)} µs (${consumers ? 'receive + normalize + relay, same process' : 'receive only'})` +
          `; Kafka broker ${us(cpu.broker, cpu.ingressRequests)} µs (shared broker: includes others' load)`,
      );
    }
    // Latency below saturation: the same webhooks offered at 80 % of the measured rate.
    const pacedRate = Math.max(1, Math.round(realRps * 0.8));
    const paced = await load(ingressUrls, Math.round(pacedRate * SECONDS), pacedRate);
    ingress2xx += paced['2xx'];
    ingressNon2xx += paced.non2xx;
    await drained();
    console.log(
      `ingress paced at ${fmt(pacedRate)} req/s (80 %): p50 ${fmt(paced.latency.p50, 1)} ms, p99 ${fmt(paced.latency.p99, 1)} ms, max ${fmt(paced.latency.max)} ms`,
    );
    console.log(`time waiting for Kafka's acks=all inside the ingress (its histogram): ${await ackWait(ingressUrl)}`);

    // Every 2xx must be a record on Kafka (acks=all before the answer): compare after the fact.
    const onKafka = await rawOnKafka();
    console.log(
      `\ningress answers: ${ingress2xx} x 2xx, ${ingressNon2xx} x non-2xx;  raw records on Kafka: ${onKafka}   (${onKafka === ingress2xx ? 'equal' : 'NOT EQUAL'})\n`,
    );
    if (onKafka !== ingress2xx) process.exitCode = 1;
  } finally {
    await pg.end();
    for (const { child } of [...ingresses, ...baselines]) await stop(child);
    await db.drop().catch(() => undefined);
    await tk.cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
