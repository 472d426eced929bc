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
    const files = [...walk(join(ROOT, 'libs')), ...walk(join(ROOT, 'services'))].filter((f) => !f.includes(`${join('libs', 'testing')}`));
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
