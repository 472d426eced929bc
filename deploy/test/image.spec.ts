// The Dockerfile and docker-compose.yml cannot be built or run on the project's machines (no Docker
// engine), so these tests check by reading what would otherwise only fail on someone's laptop or in
// a registry build: stages and users, what the pruned image must contain, and that the compose
// stack matches the local stack (ports, schemas, broker settings).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { STACK_SERVICES } from '../../tools/stack-services';
import { readRepoFile, ROOT } from './support';

interface Stage {
  name: string;
  from: string;
  lines: string[];
}

/** Dockerfile stages with continuation lines joined and comments dropped. */
function dockerStages(text: string): Stage[] {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ from: from[1], name: from[2] ?? String(stages.length), lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

/** The agent console's browser sources: bundled by tools/build.mjs into dist/console, never loaded by Node. */
const BROWSER_SOURCES = join(ROOT, 'services', 'handoff-router', 'console');
const dockerfile = readRepoFile('Dockerfile');
const stages = dockerStages(dockerfile);
const stage = (name: string) => {
  const found = stages.find((s) => s.name === name);
  if (!found) throw new Error(`Dockerfile has no stage ${name}`);
  return found;
};
const packageJson = JSON.parse(readRepoFile('package.json')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  workspaces: string[];
};

describe('Dockerfile', () => {
  test('builds on node:20-bookworm-slim, the runtime the package pins (engines)', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(stages.every((s) => s.from === '${NODE_IMAGE}' || stages.some((p) => p.name === s.from))).toBe(true);
  });

  test('COPY --parents has a frontend that supports it', () => {
    const syntax = /^# syntax=docker\/dockerfile:(\d+)\.(\d+)/.exec(dockerfile);
    expect(syntax).not.toBeNull();
    if (/COPY --parents/.test(dockerfile)) expect(Number(syntax![1]) * 100 + Number(syntax![2])).toBeGreaterThanOrEqual(120);
  });

  test('installs with npm ci, builds with npm run build, prunes dev dependencies', () => {
    expect(stage('deps').lines.some((l) => /npm ci\b/.test(l))).toBe(true);
    expect(stage('build').lines.some((l) => /npm run build\b/.test(l))).toBe(true);
    expect(stage('prod-deps').lines.some((l) => /npm prune --omit=dev\b/.test(l))).toBe(true);
  });

  test('copies every workspace manifest before npm ci', () => {
    const copy = stage('deps').lines.find((l) => l.startsWith('COPY --parents')) ?? '';
    for (const workspace of packageJson.workspaces) expect(copy).toContain(`${workspace}/package.json`);
  });

  test('the runtime stage is the default target, runs as uid 1000 and carries only production dependencies', () => {
    expect(stages.at(-1)?.name).toBe('runtime');
    const runtime = stage('runtime');
    expect(runtime.from).toBe('${NODE_IMAGE}');
    expect(runtime.lines).toContain('USER 1000:1000');
    const copies = runtime.lines.filter((l) => l.startsWith('COPY'));
    expect(copies.some((l) => /--from=prod-deps \S*node_modules/.test(l))).toBe(true);
    expect(copies.some((l) => /--from=build \S*dist/.test(l))).toBe(true);
    expect(copies.some((l) => /--from=(deps|build) \S*node_modules/.test(l))).toBe(false);
    const cmd = runtime.lines.find((l) => l.startsWith('CMD')) ?? '';
    expect(cmd).toMatch(/^CMD \["node", "dist\/services\/[a-z-]+\/src\/main\.js"\]$/);
  });

  test('the dev-only tools stage also runs as uid 1000', () => {
    expect(stage('tools').lines).toContain('USER 1000:1000');
  });

  test('everything COPY takes from the context exists and is not excluded by .dockerignore', () => {
    const ignored = readRepoFile('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const sources = stages
      .flatMap((s) => s.lines)
      .filter((l) => l.startsWith('COPY') && !l.includes('--from='))
      .flatMap((l) =>
        l
          .split(/\s+/)
          .slice(1, -1)
          .filter((t) => !t.startsWith('--')),
      );
    for (const source of sources) {
      const top = source.split('/')[0];
      expect(ignored).not.toContain(top);
      if (!source.includes('*')) expect(existsSync(join(ROOT, source))).toBe(true);
    }
  });

  test('every package the services load at run time survives npm prune --omit=dev', () => {
    const builtins = new Set(builtinModules);
    const missing: string[] = [];
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((entry) => {
        const full = join(dir, entry);
        if (statSync(full).isDirectory()) return entry === 'node_modules' || entry === 'test' ? [] : walk(full);
        return /\.ts$/.test(entry) && !/\.(spec|int-spec|d)\.ts$/.test(entry) ? [full] : [];
      });
    // libs/testing is never loaded by a service; build.mjs compiles it but main.js never requires it.
    // The console's browser sources are bundled at build time (their packages stay in the build stage).
    const files = [...walk(join(ROOT, 'libs')), ...walk(join(ROOT, 'services'))].filter(
      (f) => !f.includes(`${join('libs', 'testing')}`) && !f.startsWith(BROWSER_SOURCES),
    );
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const specifiers = [
        ...[...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]),
        ...[...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]),
        ...[...text.matchAll(/\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]),
      ];
      for (const spec of specifiers) {
        if (spec.startsWith('.') || spec.startsWith('@wa/') || spec.startsWith('node:')) continue;
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (builtins.has(pkg) || packageJson.dependencies[pkg]) continue;
        missing.push(
          `${relative(ROOT, file)} imports ${pkg}, which is ${packageJson.devDependencies[pkg] ? 'a devDependency' : 'not a dependency'}`,
        );
      }
    }
    expect(missing).toEqual([]);
  });
});

/** Non-test TypeScript under libs/ and services/ that a service may load (libs/testing never is). */
function runtimeSources(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) return entry === 'node_modules' || entry === 'test' ? [] : walk(full);
      return /\.ts$/.test(entry) && !/\.(spec|int-spec|d)\.ts$/.test(entry) ? [full] : [];
    });
  return [...walk(join(ROOT, 'libs')), ...walk(join(ROOT, 'services'))].filter(
    (f) => !f.includes(join('libs', 'testing')) && !f.startsWith(BROWSER_SOURCES),
  );
}

const TOP_DIRS = ['config', 'services', 'libs', 'deploy', 'sandbox', 'dist', '.local'];

/**
 * Repository paths the code names for reading at run time (relative to the working directory, /app
 * in the image): string literals such as 'services/chatbot/flows', and join()/resolve() calls whose
 * literal segments start at a top-level directory (resolve(process.cwd(), 'services', ...)).
 * A static scan, not an import: most readers are module-level constants or paths computed inside
 * functions that only run in a started service.
 */
function pathsReadByCode(files: { path: string; text: string }[]): Map<string, string> {
  const found = new Map<string, string>();
  const top = TOP_DIRS.map((d) => d.replace('.', '\\.')).join('|');
  const literal = new RegExp(`['"\`]((?:${top})/[A-Za-z0-9_./-]+)['"\`]`, 'g');
  for (const { path, text } of files) {
    const code = text
      .split('\n')
      .filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l))
      .join('\n');
    for (const m of code.matchAll(literal)) found.set(m[1].replace(/\/$/, ''), path);
    for (const call of code.matchAll(/\b(?:join|resolve)\(([^()]*(?:\([^()]*\))?[^()]*)\)/g)) {
      const segments = [...call[1].matchAll(/'([^']+)'/g)].map((m) => m[1]);
      const start = segments.findIndex((s) => TOP_DIRS.includes(s));
      if (start >= 0 && segments.length - start > 1) found.set(segments.slice(start).join('/'), path);
    }
  }
  return found;
}

/** The image paths (relative to WORKDIR /app) the runtime stage copies in. */
function runtimeCopies(stagesOf: Stage[]): string[] {
  const runtime = stagesOf.find((s) => s.name === 'runtime');
  return (runtime?.lines ?? [])
    .filter((l) => l.startsWith('COPY'))
    .map((l) =>
      l
        .split(/\s+/)
        .at(-1)!
        .replace(/^\.\//, '')
        .replace(/^\/app\//, '')
        .replace(/\/$/, ''),
    );
}

/** Paths the code reads that the runtime stage does not copy (a copied directory covers what is under it). */
function missingFromImage(stagesOf: Stage[], paths: Iterable<string>, notInImage: Record<string, string>): string[] {
  const copies = runtimeCopies(stagesOf);
  return [...paths].filter((p) => !(p in notInImage) && !copies.some((c) => p === c || p.startsWith(`${c}/`)));
}

/** Paths the code names that deliberately stay out of the image, and why. */
const NOT_IN_IMAGE: Record<string, string> = {
  'deploy/local/sandbox.env': 'sandbox-only secrets: Kubernetes and compose pass them as Secrets / env, never baked into an image',
  '.local/auth/sandbox-signing.key': 'written at run time by a sandbox without AUTH_SANDBOX_SECRET; never shipped',
  'libs/auth/testing/jose-environment.cjs': 'the Jest environment; named in an error message only',
};

/** Files that call the file system; each either names its paths (found above) or reads a configured one. */
const READERS: Record<string, string> = {
  'libs/tenancy/src/tenant-registry.ts': 'TENANTS_FILE (a mounted ConfigMap) and file: secret refs (mounted Secrets)',
  'libs/auth/src/auth-env.ts': 'AUTH_SANDBOX_KEY_FILE / .local (sandbox only)',
  'services/webhook-ingress/src/tenants/ingress-tenants.ts': 'deploy/local/sandbox.env (sandbox only)',
  'services/template-registry/src/starter/starter-catalog.ts': 'services/template-registry/starter',
  'services/notification-scheduler/src/policy/policy.service.ts': 'SCHEDULER_POLICIES_FILE or the sandbox policies',
  'services/notification-scheduler/src/app.module.ts': 'the sandbox policies (existence check)',
  'services/chatbot/src/effects/integrations.ts': 'CHATBOT_INTEGRATIONS_FILE or the sandbox integrations, file: secret refs',
  'services/chatbot/src/effects/service-tokens.ts': 'file: secret refs (mounted Secrets)',
  'services/chatbot/src/admin/sandbox-flows.loader.ts': 'CHATBOT_FLOWS_DIR or services/chatbot/flows',
  'services/chatbot/src/app.module.ts': 'the sandbox integrations (existence check)',
  'services/chatbot/src/flows/testing.ts': 'test fixtures beside the sources; loaded by tests only',
  'services/handoff-router/src/console/console-static.ts': 'dist/console (the console build, part of npm run build)',
  'services/handoff-router/src/sample/sample.loader.ts': 'services/handoff-router/sample (sandbox only)',
};

describe('the image carries every file the services read at run time', () => {
  const sources = runtimeSources().map((f) => ({ path: relative(ROOT, f), text: readFileSync(f, 'utf8') }));
  const paths = pathsReadByCode(sources);

  test('the scan finds the known readers (a scan that finds nothing would pass anything)', () => {
    expect([...paths.keys()]).toEqual(
      expect.arrayContaining([
        'services/template-registry/starter',
        'services/notification-scheduler/config/policies.sandbox.yaml',
        'services/chatbot/flows',
        'config/integrations.sandbox.yaml',
        'config/tenants.sandbox.yaml',
      ]),
    );
  });

  test('every file the code reads from the file system is accounted for here', () => {
    const readers = sources
      .filter((s) => /\b(readFileSync|readFile|readdirSync|readdir|existsSync|createReadStream|statSync)\(/.test(s.text))
      .map((s) => s.path)
      .filter((p) => !(p in READERS));
    // A new reader: add it to READERS, and if it reads a fixed path, make the Dockerfile copy it.
    expect(readers).toEqual([]);
  });

  test('every path the code names exists in the repository and is copied into the runtime stage', () => {
    const absent = [...paths.keys()].filter((p) => !(p in NOT_IN_IMAGE) && !p.startsWith('dist/') && !existsSync(join(ROOT, p)));
    expect(absent).toEqual([]);
    expect(missingFromImage(stages, paths.keys(), NOT_IN_IMAGE)).toEqual([]);
  });

  test('the build stage has the sources of every runtime copy', () => {
    const build = stage('build')
      .lines.filter((l) => l.startsWith('COPY'))
      .map((l) => l.split(/\s+/).at(-1)!.replace(/^\.\//, '').replace(/\/$/, ''));
    for (const line of stage('runtime').lines.filter((l) => l.startsWith('COPY --from=build'))) {
      const source = line.split(/\s+/)[2].replace(/^\/app\//, '');
      if (source === 'dist') continue;
      expect([source, build.some((b) => source === b || source.startsWith(`${b}/`))]).toEqual([source, true]);
    }
  });

  test('catches a Dockerfile that copies only dist (the starter catalog would silently load nothing)', () => {
    const onlyDist = dockerStages(dockerfile.replace(/^COPY --from=build \/app\/(services|config)\S* \S+$/gm, ''));
    expect(missingFromImage(onlyDist, paths.keys(), NOT_IN_IMAGE)).toEqual(
      expect.arrayContaining(['services/template-registry/starter', 'services/chatbot/flows', 'config/integrations.sandbox.yaml']),
    );
  });

  test('catches a new reader of a fixed path', () => {
    const found = pathsReadByCode([
      { path: 'x.ts', text: "const dir = resolve(process.cwd(), 'services', 'x', 'assets');\nconst f = 'config/x.yaml';" },
    ]);
    expect([...found.keys()]).toEqual(['config/x.yaml', 'services/x/assets']);
    // config/ is copied whole; the new service directory is not.
    expect(missingFromImage(stages, found.keys(), NOT_IN_IMAGE)).toEqual(['services/x/assets']);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readRepoFile('docker-compose.yml'), { merge: true }) as {
    services: Record<
      string,
      Record<string, unknown> & { environment?: Record<string, string | number>; build?: { target?: string }; image?: string }
    >;
  };
  const services = compose.services;

  test('runs the infrastructure, the infra job, the sandbox and every service of the local stack', () => {
    const names = Object.keys(services);
    for (const required of ['kafka', 'postgres', 'otel-collector', 'infra', 'sandbox', ...STACK_SERVICES.map((s) => s.name)])
      expect(names).toContain(required);
  });

  test.each(STACK_SERVICES.map((s) => [s.name, s]))('%s: same command, port, schema role and hardening as the manifests', (name, s) => {
    const svc = services[name];
    expect(svc.command).toEqual(['node', `dist/services/${name}/src/main.js`]);
    expect(svc.environment?.PORT).toBe(String(s.port));
    expect(svc.ports).toEqual([`127.0.0.1:${s.port}:${s.port}`]);
    expect(String(svc.environment?.DATABASE_URL)).toMatch(new RegExp(`^postgres://${s.schema}_app:[^@]+@postgres:5432/wa_platform$`));
    expect(JSON.stringify(svc.healthcheck)).toContain(`http://127.0.0.1:${s.port}/health/ready`);
    expect(svc.depends_on).toMatchObject({ infra: { condition: 'service_completed_successfully' } });
    expect(svc).toMatchObject({ user: '1000:1000', read_only: true, cap_drop: ['ALL'], build: { target: 'runtime' } });
  });

  test('every long-running container has a healthcheck (the one-shot infra job is checked by its exit code)', () => {
    const without = Object.entries(services)
      .filter(([name, svc]) => name !== 'infra' && !(svc.healthcheck as { test?: unknown } | undefined)?.test)
      .map(([name]) => name);
    expect(without).toEqual([]);
    for (const svc of Object.values(services))
      for (const [dependency, how] of Object.entries((svc.depends_on as Record<string, { condition: string }> | undefined) ?? {}))
        expect([dependency, how.condition]).toEqual([
          dependency,
          dependency === 'infra' ? 'service_completed_successfully' : 'service_healthy',
        ]);
  });

  test('traces go from the collector to the Jaeger viewer', () => {
    const config = parse(readRepoFile('deploy/compose/otel-collector.yaml')) as {
      exporters: Record<string, { endpoint?: string }>;
      service: { pipelines: { traces: { exporters: string[] } } };
    };
    const exporters = config.service.pipelines.traces.exporters.map((e) => config.exporters[e]?.endpoint);
    expect(exporters).toContain('jaeger:4317');
    expect(services.jaeger.ports).toContain('127.0.0.1:16686:16686');
    expect(services.jaeger.environment?.COLLECTOR_OTLP_ENABLED).toBe('true');
  });

  test('build targets exist in the Dockerfile', () => {
    for (const svc of Object.values(services)) if (svc.build?.target) expect(stages.map((s) => s.name)).toContain(svc.build.target);
    expect(services.infra.build?.target).toBe('tools');
    expect(services.sandbox.build?.target).toBe('tools');
  });

  test('third-party images are pinned', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (svc.build) continue;
      expect([name, svc.image]).toEqual([name, expect.stringMatching(/^[\w./-]+:(?!latest$)[\w.-]+$/)]);
    }
  });

  test('the broker uses the settings of deploy/local/kafka/server.properties', () => {
    // Listener and storage settings differ by design (container network, volume path).
    const skip = new Set([
      'listeners',
      'advertised.listeners',
      'controller.quorum.bootstrap.servers',
      'listener.security.protocol.map',
      'log.dirs',
    ]);
    const properties = readRepoFile('deploy/local/kafka/server.properties')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const);
    const env = Object.fromEntries(
      Object.entries(services.kafka.environment ?? {})
        .filter(([k]) => k.startsWith('KAFKA_'))
        .map(([k, value]) => [
          k
            .slice(6)
            .toLowerCase()
            .replace(/___/g, '-')
            .replace(/__/g, '\u0000')
            .replace(/_/g, '.')
            .replace(/\u0000/g, '_'),
          String(value),
        ]),
    );
    const differences = properties
      .filter(([key, value]) => !skip.has(key) && env[key] !== value)
      .map(([key, value]) => `${key}: server.properties ${value}, compose ${env[key]}`);
    expect(differences).toEqual([]);
    expect(String(services.kafka.environment?.CLUSTER_ID)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  test('every file it mounts or reads exists', () => {
    for (const svc of Object.values(services)) {
      for (const volume of (svc.volumes as string[] | undefined) ?? [])
        if (volume.startsWith('./')) expect(existsSync(join(ROOT, volume.split(':')[0]))).toBe(true);
      for (const file of (svc.env_file as string[] | undefined) ?? []) expect(existsSync(join(ROOT, file))).toBe(true);
    }
  });

  test('the collector pipelines use only defined components and scrape every service', () => {
    const config = parse(readRepoFile('deploy/compose/otel-collector.yaml')) as {
      receivers: Record<string, unknown>;
      processors: Record<string, unknown>;
      exporters: Record<string, unknown>;
      receivers_prometheus?: unknown;
      service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
    };
    for (const pipeline of Object.values(config.service.pipelines)) {
      for (const r of pipeline.receivers) expect(Object.keys(config.receivers)).toContain(r);
      for (const p of pipeline.processors) expect(Object.keys(config.processors)).toContain(p);
      for (const e of pipeline.exporters) expect(Object.keys(config.exporters)).toContain(e);
    }
    const targets = JSON.stringify(config.receivers.prometheus);
    for (const s of STACK_SERVICES) expect(targets).toContain(`${s.name}:${s.port}`);
    expect(String(services['webhook-ingress'].environment?.OTEL_EXPORTER_OTLP_ENDPOINT)).toBe('http://otel-collector:4318');
  });
});
