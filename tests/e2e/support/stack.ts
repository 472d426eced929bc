import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadSandboxKey, mintSandboxToken, type Role } from '@wa/auth';
import { createTestDatabase, createTestKafka, freePort, type TestDatabase, type TestKafka } from '@wa/testing';
import { migrate } from '@wa/persistence';
import type { ServiceDescriptor } from '@wa/service-kit';
import { mainOf, STACK_SERVICES, type StackService } from '../../../tools/stack-services';

/*
 * The platform as `npm run stack:up` runs it — each service a separate process started from its
 * main.ts with `node -r ./tools/ts-register.cjs`, its schema migrated with its own migrations, plus
 * the Cloud API sandbox as a process — but on free ports, under its own Kafka topic prefix (so its
 * topics and consumer groups are its own) and in its own database, so it never meets another test
 * or a stack someone runs. Logs go to .local/e2e-logs/<run>/ and stay there (the last three
 * runs'), to read when a run fails.
 */

const ROOT = join(__dirname, '..', '..', '..');
export const E2E_LOGS = join(ROOT, '.local', 'e2e-logs');
const TENANTS_FILE = join(ROOT, 'config', 'tenants.sandbox.yaml');
const KEEP_RUNS = 3;

export type ServiceName = StackService['name'];

export interface E2EStack {
  /** http://127.0.0.1:<port> of each started service. */
  url: Record<string, string>;
  sandboxUrl: string;
  kafka: TestKafka;
  db: TestDatabase;
  logDir: string;
  /** Notes a moment in the run's timeline.log. */
  mark(what: string): void;
  /** A bearer token the services accept (sandbox auth, the stack's own key). */
  token(tenant: string, roles: Role[]): Promise<string>;
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

function start(name: string, script: string, env: Record<string, string>, logDir: string): Started {
  const log = join(logDir, `${name}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, ['-r', './tools/ts-register.cjs', script], { cwd: ROOT, stdio: ['ignore', fd, fd], env });
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

/**
 * Starts the named services (and the sandbox) and waits until each is ready. On any failure
 * everything started so far is stopped before the error is thrown.
 */
export async function startStack(
  label: string,
  services: ServiceName[],
  extraEnv: Partial<Record<ServiceName, Record<string, string>>> = {},
): Promise<E2EStack> {
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
    for (const name of [...wanted.map((w) => w.name), 'cloud-api-sandbox']) ports.set(name, await freePort());
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
        TENANTS_FILE,
      },
      logDir,
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

    const envOf = (s: StackService): Record<string, string> => ({
      ...base,
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      PORT: String(ports.get(s.name)),
      DATABASE_URL: db!.appUrl(s.schema),
      KAFKA_BROKERS: kafka!.options.brokers.join(','),
      KAFKA_TOPIC_PREFIX: kafka!.prefix,
      TENANTS_FILE,
      GRAPH_BASE_URL: sandboxUrl,
      AUTH_MODE: 'sandbox',
      AUTH_SANDBOX_SECRET: authSecret,
      // Tracing is checked by tests/foundation; here it would only cost start-up CPU (its
      // instrumentations load and patch dozens of modules), which a loaded machine feels most.
      OTEL_SDK_DISABLED: 'true',
      // The chatbot fetches citizens' media through the ingress's media API.
      ...(ports.has('webhook-ingress') ? { MEDIA_API_URL: `http://127.0.0.1:${ports.get('webhook-ingress')}` } : {}),
      ...(extraEnv[s.name] ?? {}),
    });
    const processes = wanted.map((s) => start(s.name, mainOf(s), envOf(s), logDir));
    started.push(...processes);
    await Promise.all([
      sandboxReady,
      ...processes.map((p) => ready(p, `http://127.0.0.1:${ports.get(p.name)}/health/ready`, 150000).then(() => mark(`${p.name} ready`))),
    ]);
    const url = Object.fromEntries(wanted.map((s) => [s.name, `http://127.0.0.1:${ports.get(s.name)}`]));
    const key = loadSandboxKey({ secret: authSecret });
    const current = (name: ServiceName) => {
      const found = started.filter((p) => p.name === name).at(-1);
      if (!found) throw new Error(`${name} is not part of this stack`);
      return found;
    };
    return {
      url,
      sandboxUrl,
      kafka: kafka!,
      db: db!,
      logDir,
      token: (tenant, roles) => mintSandboxToken({ key, sub: 'e2e', tenant, roles, expiresIn: '1h' }),
      mark,
      stop: cleanup,
      kill: async (name) => {
        const { child } = current(name);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const gone = exited(child);
        child.kill('SIGKILL');
        await gone;
        mark(`${name} killed (SIGKILL)`);
      },
      restart: async (name) => {
        const s = wanted.find((w) => w.name === name)!;
        const again = start(name, mainOf(s), envOf(s), logDir);
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
