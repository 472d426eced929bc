// The load side of the webhook-ingress benchmarks (bench:ingress, bench:ingress-ab): realistic
// signed webhooks, autocannon runs on loopback, the processes under test and their CPU time.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { infraEnv } from '@wa/testing';

export const ROOT = join(__dirname, '..', '..');
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);

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
export interface AutocannonResult {
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

export function startProcess(
  args: string[],
  env: Record<string, string>,
  nodeArgs: string[] = [],
  cwd = ROOT,
): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, [...nodeArgs, '-r', './tools/ts-register.cjs', ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20000)));
  child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20000)));
  return { child, output: () => output };
}

export async function stop(child: ChildProcess): Promise<void> {
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
export async function load(urls: string[], amount: number, overallRate?: number): Promise<AutocannonResult> {
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
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return undefined;
  }
}

export function brokerPid(): number | undefined {
  try {
    return Number(readFileSync(join(ROOT, '.local', 'kafka', 'kafka.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of every PostgreSQL process on the machine (the server forks one backend per
 * connection; a pool's connections live through a measurement, a backend that exits takes its
 * share with it): what the database spends, next to the client's own CPU.
 */
export function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue; // exited meanwhile
    }
    total += cpuSeconds(Number(entry)) ?? 0;
  }
  return total;
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
// autocannon reports whole seconds; the wall clock around each run is finer.
const wallSeconds = new WeakMap<AutocannonResult, number>();
export const rateOf = (r: AutocannonResult) => (r['2xx'] + r.non2xx) / (wallSeconds.get(r) ?? r.duration);

/** The sandbox apps' secrets (deploy/local/sandbox.env), as the ingress reads them from its env. */
export function sandboxSecrets(): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(ROOT, 'deploy', 'local', 'sandbox.env'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** The ingress's environment as the local stack runs it, on a test database and topic prefix. */
export function ingressEnv(port: number, databaseUrl: string, topicPrefix: string): Record<string, string> {
  return {
    ...sandboxSecrets(),
    // As the local stack runs it (production would need an OIDC issuer for the media API's tokens).
    NODE_ENV: 'development',
    AUTH_MODE: 'sandbox',
    AUTH_SANDBOX_SECRET: 'bench-only-signing-key-0123456789abcdef',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: infraEnv().brokers.join(','),
    KAFKA_TOPIC_PREFIX: topicPrefix,
    TENANTS_FILE: join(ROOT, 'config', 'tenants.sandbox.yaml'),
    LOG_LEVEL: 'warn',
  };
}
