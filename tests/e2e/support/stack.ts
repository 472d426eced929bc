import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadSandboxKey, mintSandboxToken, type Role } from '@wa/auth';
import { createKafka } from '@wa/kafka';
import { createTestDatabase, createTestKafka, freePort, type Collected, type TestDatabase, type TestKafka } from '@wa/testing';
import { migrate } from '@wa/persistence';
import type { ServiceDescriptor } from '@wa/service-kit';
import { mainOf, SERVICE_WORKERS, STACK_SERVICES, type StackService } from '../../../tools/stack-services';

/*
 * The platform as `npm run stack:up` runs it — each service a separate process started from its
 * main.ts with `node -r ./tools/ts-register.cjs`, its schema migrated with its own migrations, plus
 * the Cloud API sandbox as a process — but on free ports, under its own Kafka topic prefix (so its
 * topics and consumer groups are its own) and in its own database, so it never meets another test
 * or a stack someone runs (the sandbox keeps its state in the run's directory). Logs go to
 * .local/e2e-logs/<run>/ and stay there (the last three runs'), to read when a run fails. The jest
 * global setup starts one for the run (global-setup.ts); test files attach to it (attachStack).
 */

const ROOT = join(__dirname, '..', '..', '..');
export const E2E_LOGS = join(ROOT, '.local', 'e2e-logs');
const TENANTS_FILE = join(ROOT, 'config', 'tenants.sandbox.yaml');
const KEEP_RUNS = 3;

export type ServiceName = StackService['name'];

/** What a test file needs to know of a running stack (passed from the global setup as JSON). */
export interface StackFacts {
  url: Record<string, string>;
  sandboxUrl: string;
  logDir: string;
  brokers: string[];
  topicPrefix: string;
  authSecret: string;
  /** When the start began (ms since the epoch): the timeline counts from it. */
  startedAt: number;
}

/** The stack as a test file drives it. */
export interface E2EStack extends StackFacts {
  /** A Kafka client on the stack's brokers; topic names need `kafka.prefix`. */
  kafka: Pick<TestKafka, 'kafka' | 'prefix' | 'collect'>;
  /** Notes a moment in the run's timeline.log. */
  mark(what: string): void;
  /** A bearer token the services accept (sandbox auth, the stack's own key). */
  token(tenant: string, roles: Role[]): Promise<string>;
}

/** The stack as its owner (the global setup) holds it. */
export interface RunningStack {
  facts: StackFacts;
  /** The process id of each started process, by name (services, workers and `cloud-api-sandbox`). */
  pid: Record<string, number | undefined>;
  /** Kills a started process with SIGKILL (a crash), and waits until it is gone. */
  kill(name: string): Promise<void>;
  /** Starts a killed process again as Kubernetes would (same command, port and env); returns once it is ready. */
  restart(name: string): Promise<void>;
  /** Ends every process (SIGTERM, then SIGKILL), then drops the database and the topics. */
  stop(): Promise<void>;
  /** Kills one service's process with SIGKILL (no shutdown hook runs); returns once it has exited. */
  kill(name: ServiceName): Promise<void>;
  /** Starts a killed service again as Kubernetes would (same command, port and env); returns once it is ready. */
  restart(name: ServiceName): Promise<void>;
}

interface Started {
  name: string;
  child: ChildProcess;
  log: string;
}

function readEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  return Object.fromEntries(
    readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#') && l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** A service's descriptor (its schema's entities and migrations), from its service.ts. */
function descriptorOf(s: StackService): ServiceDescriptor {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- by name, from the list of stack services
  const exported = require(join(ROOT, 'services', s.name, 'src', 'service')) as Record<string, unknown>;
  const descriptor = Object.values(exported).find((v): v is ServiceDescriptor => (v as ServiceDescriptor | undefined)?.name === s.name);
  if (!descriptor) throw new Error(`services/${s.name}/src/service.ts exports no descriptor named ${s.name}`);
  return descriptor;
}

/** The last lines of a log, for an error message. */
export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Keeps the newest runs' logs only. */
function pruneLogs(): void {
  if (!existsSync(E2E_LOGS)) return;
  const runs = readdirSync(E2E_LOGS).sort();
  for (const old of runs.slice(0, Math.max(0, runs.length - KEEP_RUNS))) rmSync(join(E2E_LOGS, old), { recursive: true, force: true });
}

// Whatever happens to the test process, its children do not outlive it: afterAll stops them, and
// these cover a worker that exits or is told to stop before that.
const live = new Set<ChildProcess>();
const killLive = () => {
  for (const child of live) child.kill('SIGKILL');
};
process.once('exit', killLive);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killLive();
    process.exit(128 + (signal === 'SIGTERM' ? 15 : 2));
  });
}

function start(name: string, script: string, env: Record<string, string>, logDir: string, nodeArgs: string[] = []): Started {
  const log = join(logDir, `${name}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, [...nodeArgs, '-r', './tools/ts-register.cjs', script], {
    cwd: ROOT,
    stdio: ['ignore', fd, fd],
    env,
  });
  closeSync(fd);
  live.add(child);
  child.once('exit', () => live.delete(child));
  return { name, child, log };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function ready(s: Started, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (s.child.exitCode !== null) throw new Error(`${s.name} exited with ${s.child.exitCode} while starting:\n${tail(s.log)}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${s.name} not ready at ${url} after ${timeoutMs} ms:\n${tail(s.log)}`);
}

async function stopAll(started: Started[]): Promise<void> {
  await Promise.all(
    started.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // Graceful shutdown is not what this suite checks (tests/foundation does): a few seconds.
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited(child);
      clearTimeout(timer);
    }),
  );
}

/** What a benchmark changes about the stack; the e2e suite runs it as deployed locally. */
export interface StackOptions {
  /** Another tenants file for the services and the sandbox (default config/tenants.sandbox.yaml). */
  tenantsFile?: string;
  /** Extra environment of the sandbox process (e.g. SANDBOX_ENFORCE_WINDOW). */
  sandboxEnv?: Record<string, string>;
  /** Node flags per process name (e.g. `--cpu-prof`). */
  nodeArgs?: Record<string, string[]>;
  /**
   * Each started service that has workers (tools/stack-services.ts) runs them as separate
   * processes, as Kubernetes does (the service's own process with its `receiverEnv`), rather than
   * in one process as the local stack does.
   */
  workers?: boolean;
  /** LOG_LEVEL of the services (default info). */
  logLevel?: string;
}

/**
 * Starts the named services (and the sandbox) and waits until each is ready. On any failure
 * everything started so far is stopped before the error is thrown.
 */
export async function startStack(
  label: string,
  services: ServiceName[],
  extraEnv: Partial<Record<ServiceName, Record<string, string>>> = {},
  options: StackOptions = {},
): Promise<RunningStack> {
  const tenantsFile = options.tenantsFile ?? TENANTS_FILE;
  pruneLogs();
  const logDir = join(E2E_LOGS, `${new Date().toISOString().replace(/[:.]/g, '-')}-${label}`);
  mkdirSync(logDir, { recursive: true });
  const wanted = STACK_SERVICES.filter((s) => services.includes(s.name));
  // When each phase ended: where a slow or failed start spent its time.
  const began = Date.now();
  const mark = (what: string) => appendFileSync(join(logDir, 'timeline.log'), `${((Date.now() - began) / 1000).toFixed(1)} s  ${what}\n`);
  const started: Started[] = [];
  let kafka: TestKafka | undefined;
  let db: TestDatabase | undefined;
  const cleanup = async () => {
    await stopAll(started);
    mark('processes stopped');
    await kafka?.cleanup();
    await db?.drop().catch(() => undefined);
  };
  try {
    const ports = new Map<string, number>();
    const workers = options.workers ? SERVICE_WORKERS.filter((w) => services.includes(w.service as ServiceName)) : [];
    for (const name of [...wanted.map((w) => w.name), ...workers.map((w) => w.name), 'cloud-api-sandbox'])
      ports.set(name, await freePort());
    const sandboxUrl = `http://127.0.0.1:${ports.get('cloud-api-sandbox')}`;
    const authSecret = randomBytes(32).toString('hex');
    const sandboxEnv = readEnvFile(join(ROOT, 'deploy', 'local', 'sandbox.env'));
    // The test runner's own settings (NODE_ENV=test, a developer's KAFKA_TOPIC_PREFIX...) stay out.
    const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...sandboxEnv };
    // The sandbox needs neither Kafka nor Postgres: it starts while they are prepared.
    const sandbox = start(
      'cloud-api-sandbox',
      'sandbox/src/main.ts',
      {
        ...base,
        PORT: String(ports.get('cloud-api-sandbox')),
        INGRESS_URL: `http://127.0.0.1:${ports.get('webhook-ingress') ?? 9}`,
        TENANTS_FILE: tenantsFile,
        // Its own state (templates, windows...), not the one a `stack:up` sandbox keeps in .local/sandbox.
        SANDBOX_STATE_DIR: join(logDir, 'sandbox-state'),
        ...(options.sandboxEnv ?? {}),
      },
      logDir,
      options.nodeArgs?.['cloud-api-sandbox'],
    );
    started.push(sandbox);
    const sandboxReady = ready(sandbox, `${sandboxUrl}/health`, 120000).then(() => mark('sandbox ready'));
    sandboxReady.catch(() => undefined); // awaited below; a failure meanwhile is not "unhandled"

    [kafka, db] = await Promise.all([
      createTestKafka(`e2e-${label}`).then((k) => (mark(`topics created under ${k.prefix}`), k)),
      createTestDatabase(wanted.map((s) => s.schema)).then((d) => (mark(`database ${d.name}`), d)),
    ]);
    // Each service's own migrations as its migrate command applies them (same function, same
    // migrator role), run here rather than as four more processes: on a loaded machine a Node
    // start-up is the expensive part.
    for (const s of wanted) {
      const descriptor = descriptorOf(s);
      await migrate({ schema: s.schema, url: db!.migratorUrl(s.schema), entities: descriptor.entities, migrations: descriptor.migrations });
    }
    mark('migrated');

    const receiverEnv = (name: string) =>
      Object.fromEntries(workers.filter((w) => w.service === name).map((w) => [w.receiverEnv.name, w.receiverEnv.value]));
    const roles = [
      ...wanted.map((s) => ({ name: s.name, service: s, env: receiverEnv(s.name) })),
      // A worker: the service's own main.ts with its consumers on (the variable's default).
      ...workers.map((w) => ({ name: w.name, service: wanted.find((s) => s.name === w.service)!, env: {} })),
    ];
    const envOf = (name: string, s: StackService, env: Record<string, string>): Record<string, string> => ({
      ...base,
      NODE_ENV: 'development',
      LOG_LEVEL: options.logLevel ?? 'info',
      PORT: String(ports.get(name)),
      DATABASE_URL: db!.appUrl(s.schema),
      KAFKA_BROKERS: kafka!.options.brokers.join(','),
      KAFKA_TOPIC_PREFIX: kafka!.prefix,
      TENANTS_FILE: tenantsFile,
      GRAPH_BASE_URL: sandboxUrl,
      AUTH_MODE: 'sandbox',
      AUTH_SANDBOX_SECRET: authSecret,
      // Tracing is checked by tests/foundation; here it would only cost start-up CPU (its
      // instrumentations load and patch dozens of modules), which a loaded machine feels most.
      OTEL_SDK_DISABLED: 'true',
      // The chatbot fetches citizens' media through the ingress's media API.
      ...(ports.has('webhook-ingress') ? { MEDIA_API_URL: `http://127.0.0.1:${ports.get('webhook-ingress')}` } : {}),
      ...(extraEnv[s.name] ?? {}),
      ...env,
    });
    const processes = roles.map(({ name, service: s, env }) =>
      start(name, mainOf(s), envOf(name, s, env), logDir, options.nodeArgs?.[name]),
    );
    started.push(...processes);
    await Promise.all([
      sandboxReady,
      ...processes.map((p) => ready(p, `http://127.0.0.1:${ports.get(p.name)}/health/ready`, 150000).then(() => mark(`${p.name} ready`))),
    ]);
    const url = Object.fromEntries(wanted.map((s) => [s.name, `http://127.0.0.1:${ports.get(s.name)}`]));
    const current = (name: string) => {
      const found = started.filter((p) => p.name === name).at(-1);
      if (!found) throw new Error(`${name} is not part of this stack`);
      return found;
    };
    return {
      facts: { url, sandboxUrl, logDir, brokers: kafka.options.brokers, topicPrefix: kafka.prefix, authSecret, startedAt: began },
      pid: Object.fromEntries(started.map((p) => [p.name, p.child.pid])),
      stop: async () => {
        mark('tests done');
        await cleanup();
      },
      kill: async (name) => {
        const { child } = current(name);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const gone = exited(child);
        child.kill('SIGKILL');
        await gone;
        mark(`${name} killed (SIGKILL)`);
      },
      restart: async (name) => {
        const role = roles.find((r) => r.name === name)!;
        const again = start(name, mainOf(role.service), envOf(name, role.service, role.env), logDir, options.nodeArgs?.[name]);
        started.push(again);
        await ready(again, `http://127.0.0.1:${ports.get(name)}/health/ready`, 150000);
        mark(`${name} ready again`);
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

const FACTS_ENV = 'WA_E2E_STACK';

/** Hands the facts to the test files (workers start after the global setup, with its environment). */
export function publishFacts(facts: StackFacts): void {
  process.env[FACTS_ENV] = JSON.stringify(facts);
}

/** The stack the global setup started, as a test file drives it. */
export function attachStack(): E2EStack {
  const raw = process.env[FACTS_ENV];
  if (!raw)
    throw new Error(`no e2e stack: ${FACTS_ENV} is not set (tests/e2e runs in the jest project "e2e", whose global setup starts it)`);
  return driveStack(JSON.parse(raw) as StackFacts);
}

/** A stack this process started (a benchmark), driven like the e2e files drive theirs. */
export function driveStack(facts: StackFacts): E2EStack {
  const options = { brokers: facts.brokers, clientId: 'e2e-tests', topicPrefix: facts.topicPrefix };
  const kafka = createKafka(options);
  const key = loadSandboxKey({ secret: facts.authSecret });
  return {
    ...facts,
    kafka: {
      kafka,
      prefix: facts.topicPrefix,
      async collect(topic) {
        const records: Collected[] = [];
        const consumer = kafka.consumer({
          groupId: `${facts.topicPrefix}collector.${randomBytes(4).toString('hex')}`,
          allowAutoTopicCreation: false,
        });
        await consumer.connect();
        await consumer.subscribe({ topic: `${facts.topicPrefix}${topic}`, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message, partition }) => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = v.toString();
            records.push({
              key: message.key?.toString() ?? null,
              value: message.value?.toString() ?? null,
              headers,
              partition,
              offset: message.offset,
            });
          },
        });
        return { records, stop: () => consumer.disconnect() };
      },
    },
    mark: (what) =>
      appendFileSync(join(facts.logDir, 'timeline.log'), `${((Date.now() - facts.startedAt) / 1000).toFixed(1)} s  ${what}\n`),
    token: (tenant, roles) => mintSandboxToken({ key, sub: 'e2e', tenant, roles, expiresIn: '1h' }),
  };
}
