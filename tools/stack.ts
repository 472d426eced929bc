// Starts, stops and lists the platform services of the local sandbox stack, as detached processes
// with logs in .local/logs and pid files in .local/run. Infrastructure comes first (infra.sh).
// Usage: node -r ./tools/ts-register.cjs tools/stack.ts up|down|status
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rolesFor, urlForRole } from '@wa/persistence';
import { mainOf, STACK_SERVICES, type StackService } from './stack-services';

const ROOT = join(__dirname, '..');
const RUN = join(ROOT, '.local', 'run');
const LOGS = join(ROOT, '.local', 'logs');

// The Cloud API simulator: stands in for graph.facebook.com and posts signed webhooks to the ingress.
const SANDBOX = { name: 'cloud-api-sandbox', port: 3100, main: 'sandbox/src/main.ts' };
const INGRESS_PORT = STACK_SERVICES.find((s) => s.name === 'webhook-ingress')!.port;

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

function pidOf(service: Pick<StackService, 'name'>): number | undefined {
  const file = join(RUN, `${service.name}.pid`);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8'));
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

async function ready(port: number, timeoutMs: number, path = '/health/ready'): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

async function up(): Promise<void> {
  mkdirSync(RUN, { recursive: true });
  mkdirSync(LOGS, { recursive: true });
  const infra = readEnvFile(join(ROOT, '.local', 'infra.env'));
  if (!infra.PLATFORM_DATABASE_URL) throw new Error('run deploy/local/infra.sh first (no .local/infra.env)');
  const sandboxEnv = readEnvFile(join(ROOT, 'deploy', 'local', 'sandbox.env'));
  const started = Date.now();
  // The handoff router serves the agent console's bundle: built here when missing or stale.
  const consoleBuild = spawnSync(process.execPath, ['services/handoff-router/console/build.mjs', '--if-stale'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (consoleBuild.status !== 0) throw new Error('the agent console did not build (services/handoff-router/console/build.mjs)');
  for (const service of STACK_SERVICES) {
    if (pidOf(service)) continue;
    const log = openSync(join(LOGS, `${service.name}.log`), 'a');
    const child = spawn(process.execPath, ['-r', './tools/ts-register.cjs', mainOf(service)], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        ...sandboxEnv,
        ...process.env,
        NODE_ENV: 'development',
        PORT: String(service.port),
        DATABASE_URL: urlForRole(
          infra.PLATFORM_DATABASE_URL,
          rolesFor(service.schema).app,
          process.env.LOCAL_ROLE_PASSWORD ?? 'local-dev-only',
        ),
        KAFKA_BROKERS: infra.KAFKA_BROKERS,
        TENANTS_FILE: join(ROOT, 'config', 'tenants.sandbox.yaml'),
        GRAPH_BASE_URL: `http://127.0.0.1:${SANDBOX.port}`,
        // The ingress's media API, for the chatbot (citizens' photos and documents).
        MEDIA_API_URL: `http://127.0.0.1:${INGRESS_PORT}`,
      },
    });
    child.unref();
    writeFileSync(join(RUN, `${service.name}.pid`), String(child.pid));
  }
  if (!pidOf(SANDBOX)) {
    const log = openSync(join(LOGS, `${SANDBOX.name}.log`), 'a');
    const child = spawn(process.execPath, ['-r', './tools/ts-register.cjs', SANDBOX.main], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        ...sandboxEnv,
        ...process.env,
        PORT: String(SANDBOX.port),
        INGRESS_URL: `http://127.0.0.1:${INGRESS_PORT}`,
        TENANTS_FILE: join(ROOT, 'config', 'tenants.sandbox.yaml'),
        // What Meta keeps (templates, windows) survives stack:down/up, as the registry's view of it does.
        SANDBOX_STATE_DIR: process.env.SANDBOX_STATE_DIR ?? join(ROOT, '.local', 'sandbox'),
      },
    });
    child.unref();
    writeFileSync(join(RUN, `${SANDBOX.name}.pid`), String(child.pid));
  }
  const results = await Promise.all([
    ...STACK_SERVICES.map(async (s) => ({ s, ok: await ready(s.port, 90000) })),
    (async () => ({ s: SANDBOX, ok: await ready(SANDBOX.port, 90000, '/health') }))(),
  ]);
  console.log(`\nstack up in ${((Date.now() - started) / 1000).toFixed(1)} s (services; infrastructure timed separately)\n`);
  for (const { s, ok } of results) {
    console.log(
      `  ${ok ? 'ready ' : 'FAILED'}  ${s.name.padEnd(24)} http://127.0.0.1:${s.port}   (docs /docs, logs .local/logs/${s.name}.log)`,
    );
  }
  const router = STACK_SERVICES.find((s) => s.name === 'handoff-router')!;
  console.log(`  agent console  http://127.0.0.1:${router.port}/console/   (sandbox sign-in: pick a sample agent)`);
  console.log('  kafka   127.0.0.1:9092       postgres  see .local/infra.env\n');
  if (results.some((r) => !r.ok)) process.exit(1);
}

async function down(): Promise<void> {
  await Promise.all(
    [...STACK_SERVICES, SANDBOX].map(async (service) => {
      const pid = pidOf(service);
      if (!pid) return;
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100 && pidOf(service); i++) await new Promise((r) => setTimeout(r, 100));
      if (pidOf(service)) process.kill(pid, 'SIGKILL');
      rmSync(join(RUN, `${service.name}.pid`), { force: true });
      console.log(`stopped ${service.name}`);
    }),
  );
}

function status(): void {
  for (const service of [...STACK_SERVICES, SANDBOX]) {
    const pid = pidOf(service);
    console.log(`${service.name.padEnd(24)} ${pid ? `running (pid ${pid}) http://127.0.0.1:${service.port}` : 'stopped'}`);
  }
}

const command = process.argv[2];
const actions: Record<string, () => Promise<void> | void> = { up, down, status };
if (!actions[command]) {
  console.error('usage: stack.ts up|down|status');
  process.exit(2);
}
Promise.resolve(actions[command]()).catch((error) => {
  console.error(`[stack] ${(error as Error).message}`);
  process.exit(1);
});
