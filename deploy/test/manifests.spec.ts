// Renders every overlay with kubectl's built-in kustomize, validates each object (kubernetes-models
// for core kinds, small schemas for KEDA / Strimzi / External Secrets) and checks the deployment
// rules in ./policy.ts. The second half feeds deliberately broken manifests through the same
// checks, so a rule that silently stopped working would fail here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_TOPICS, Topics } from '@wa/contracts';
import { groupTopicDeclarations, retryTopicName } from '@wa/kafka';
import { SERVICE_WORKERS, STACK_SERVICES } from '../../tools/stack-services';
import { renderTopics, TOPICS_FILE } from '../../tools/render-topics';
import { ingressService } from '../../services/webhook-ingress/src/service';
import { checkOverlay, checkPlatform, checkWaves, type OutboundCall, type PolicyContext } from './policy';
import {
  clone,
  ENVS,
  kustomize,
  kubectlMissing,
  readRepoFile,
  renderOverlay,
  ROOT,
  validateObject,
  type Env,
  type K8sObject,
  type OverlayRender,
} from './support';

jest.setTimeout(30000);

const missing = kubectlMissing();
if (missing) {
  // A skipped render must be visible, not a silent green run.
  console.warn(`deploy/test/manifests.spec.ts: SKIPPING the kustomize render tests: ${missing}`);
}
const describeRendered = missing ? describe.skip : describe;

/** Secret names between the secrets markers of docs/operations.md. */
function documentedSecrets(): Set<string> {
  const docs = readRepoFile('docs/operations.md');
  const block = /<!-- secrets:begin -->([\s\S]*?)<!-- secrets:end -->/.exec(docs);
  if (!block) throw new Error('docs/operations.md has no <!-- secrets:begin --> ... <!-- secrets:end --> block');
  return new Set([...block[1].matchAll(/^\|\s*`([a-z0-9-]+)`/gm)].map((m) => m[1]));
}

/**
 * The topics a service's consumers read, from its sources: `@EventPattern(Topics.x.name)` and
 * `register(Topics.x` / `registerBatch(Topics.x` (a static scan: importing the modules would need
 * their Nest context, and these two forms are the only ways a service subscribes), plus the
 * group's retry topic, which ConsumerHost subscribes to whenever it has a handler.
 */
function consumedTopics(service: string): string[] {
  const topics = new Set<string>();
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) return walk(full);
      return /\.ts$/.test(entry) && !/\.(spec|int-spec)\.ts$/.test(entry) ? [full] : [];
    });
  for (const file of walk(join(ROOT, 'services', service, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:@EventPattern\(\s*Topics\.(\w+)\.name|\.register(?:Batch)?\(\s*Topics\.(\w+)\b)/g)) {
      const key = (m[1] ?? m[2]) as keyof typeof Topics;
      if (!Topics[key]) throw new Error(`${file}: Topics.${key} is not in @wa/contracts`);
      topics.add(Topics[key].name);
    }
  }
  if (topics.size) topics.add(retryTopicName(service));
  return [...topics].sort();
}

const PUBLIC_HTTP = new Set(STACK_SERVICES.map((s) => s.name));

function sourcesOf(service: string): string {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) return walk(full);
      return /\.ts$/.test(entry) && !/\.(spec|int-spec)\.ts$/.test(entry) ? [full] : [];
    });
  return walk(join(ROOT, 'services', service, 'src'))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
}

/**
 * What each service's own Deployment calls beyond the platform basics, read from its code (a static
 * scan of the settings that carry the call): GRAPH_BASE_URL (Cloud API), an auth-verifying env
 * (withAuthEnv) or an API on the admin host (JWKS: every admin API verifies bearer tokens),
 * *_INTEGRATIONS_FILE (tenants' HTTP integrations), MEDIA_API_URL (the ingress's media API).
 * Workers (the normalizers) serve no routed API and call none of these.
 */
function outboundCalls(): Map<string, Set<OutboundCall>> {
  const calls = new Map<string, Set<OutboundCall>>();
  for (const s of STACK_SERVICES) {
    const text = sourcesOf(s.name);
    const set = new Set<OutboundCall>();
    if (/\bGRAPH_BASE_URL\b/.test(text)) set.add('cloud-api');
    if (/withAuthEnv\(/.test(text) || PUBLIC_HTTP.has(s.name)) set.add('jwks');
    if (/\b[A-Z_]*INTEGRATIONS_FILE\b/.test(text)) set.add('integrations');
    if (/\bMEDIA_API_URL\b/.test(text)) set.add('media-api');
    calls.set(s.name, set);
  }
  return calls;
}

/** APIs only other services call (inside the cluster), by service: never routed from outside. */
const INTERNAL_APIS: Record<string, string[]> = { 'webhook-ingress': ['/v1/media'] };

/**
 * The path prefixes of a service's HTTP API, from its code: each `@Controller('a/b')` (or, for a
 * bare `@Controller('v1')`, the first segment of each method route), plus raw Fastify GET routes
 * (the console's static files). Internal APIs and the webhook (routed on its own) are left out.
 */
function apiRoutes(service: string): string[] {
  const prefixes = new Set<string>();
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) return walk(full);
      return /\.ts$/.test(entry) && !/\.(spec|int-spec)\.ts$/.test(entry) ? [full] : [];
    });
  for (const file of walk(join(ROOT, 'services', service, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const c of text.matchAll(/@Controller\('([^']+)'\)/g)) {
      const base = `/${c[1]}`;
      if (base.split('/').length > 2) prefixes.add(base);
      else for (const m of text.matchAll(/@(?:Get|Post|Put|Patch|Delete)\('([^':/][^'/]*)/g)) prefixes.add(`${base}/${m[1]}`);
    }
    for (const r of text.matchAll(/fastify\.get\('(\/[a-z-]+)/g)) prefixes.add(r[1]);
  }
  return [...prefixes].filter((p) => !(INTERNAL_APIS[service] ?? []).includes(p)).sort();
}

let ctx: PolicyContext;

beforeAll(async () => {
  const partitions = new Map(ALL_TOPICS.map((t) => [t.name, t.partitions]));
  const derived = STACK_SERVICES.flatMap((s) => groupTopicDeclarations(s.name));
  for (const t of derived) partitions.set(t.name, t.partitions);
  ctx = {
    services: STACK_SERVICES,
    workers: SERVICE_WORKERS,
    consumes: new Map(STACK_SERVICES.map((s) => [s.name, consumedTopics(s.name)])),
    partitions,
    requiredTopics: [...ALL_TOPICS.map((t) => t.name), ...derived.map((t) => t.name)],
    // The webhook and the APIs of the admin host (gateway messages/media, templates, scheduler
    // policies/notices, chatbot flows, the agent console and its API).
    publicHttp: PUBLIC_HTTP,
    calls: outboundCalls(),
    webhookBodyLimit: ingressService.bodyLimit!,
    apiRoutes: new Map(STACK_SERVICES.map((s) => [s.name, apiRoutes(s.name)])),
    hpaServices: new Set(['webhook-ingress']),
    documentedSecrets: documentedSecrets(),
    sandboxTenants: readRepoFile('config/tenants.sandbox.yaml'),
  };
});

describe('sources the manifests are derived from', () => {
  test('deploy/base/kafka-topics/topics.yaml is up to date with libs/contracts and libs/kafka', async () => {
    // On failure: node -r ./tools/ts-register.cjs tools/render-topics.ts --write
    expect(readRepoFile('deploy/base/kafka-topics/topics.yaml')).toBe(await renderTopics());
    expect(TOPICS_FILE).toBe(join(ROOT, 'deploy/base/kafka-topics/topics.yaml'));
  });

  test('each retry and DLQ topic pair is derived per consumer group', async () => {
    const names = groupTopicDeclarations('chatbot').map((t) => t.name);
    expect(names).toEqual(['chatbot.retry', 'chatbot.dlq']);
  });

  test('the API route scan finds what the services serve (a scan that finds nothing would pass anything)', () => {
    expect(ctx.apiRoutes.get('handoff-router')).toEqual(
      expect.arrayContaining(['/console', '/v1/conversations', '/v1/templates', '/v1/stream']),
    );
    expect(ctx.apiRoutes.get('template-registry')).toEqual(['/v1/templates']);
    expect(ctx.apiRoutes.get('webhook-ingress')).toEqual([]);
  });

  test('the outbound-call scan finds what the code calls (a scan that finds nothing would pass anything)', () => {
    expect([...ctx.calls.get('chatbot')!].sort()).toEqual(['integrations', 'jwks', 'media-api']);
    expect([...ctx.calls.get('outbound-gateway')!].sort()).toEqual(['cloud-api', 'jwks']);
    expect([...ctx.calls.get('notification-scheduler')!]).toEqual(['jwks']);
  });

  test('the subscription scan finds what the services consume (a scan that finds nothing would pass anything)', () => {
    expect(ctx.consumes.get('chatbot')).toEqual(
      expect.arrayContaining(['wa.inbound.message.v1', 'conversation.owner.v1', 'wa.outbound.result.v1', 'chatbot.retry']),
    );
    expect(ctx.consumes.get('outbound-gateway')).toEqual(expect.arrayContaining(['wa.outbound.request.v1', 'wa.message.status.v1']));
    expect(ctx.consumes.get('notification-scheduler')).toEqual(expect.arrayContaining(['agency.event.v1', 'wa.outbound.result.v1']));
  });

  test.each(STACK_SERVICES.map((s) => [s.name, s]))('%s: consumer group is the service name and the schema matches', (name, service) => {
    // KEDA triggers, retry/DLQ topics and NetworkPolicies all key on these two facts.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const module = require(join(ROOT, 'services', name, 'src', 'service.ts')) as Record<
      string,
      { consumerGroup?: string; schema?: string }
    >;
    const descriptor = Object.values(module).find((x) => x && typeof x === 'object' && 'consumerGroup' in x);
    expect(descriptor?.consumerGroup).toBe(name);
    expect(descriptor?.schema).toBe(service.schema);
  });
});

describeRendered('rendered overlays', () => {
  const renders = new Map<Env, OverlayRender>();

  beforeAll(async () => {
    for (const r of await Promise.all(ENVS.map(renderOverlay))) renders.set(r.env, r);
  });

  test.each(ENVS)('%s: every object validates against its schema', (env) => {
    const r = renders.get(env)!;
    const problems = [...r.app, ...r.jobs, ...r.topics].flatMap(validateObject);
    expect(problems).toEqual([]);
  });

  test.each(ENVS)('%s: follows the deployment rules', (env) => {
    expect(checkOverlay(renders.get(env)!, ctx)).toEqual([]);
  });

  test("dev's chatbot calls the sandbox's stand-in agency systems (config/integrations.sandbox.yaml at the in-cluster address)", () => {
    const dev = renders.get('dev')!;
    const chatbot = dev.app.find((o) => o.kind === 'Deployment' && o.metadata.name === 'chatbot') as K8sObject & {
      spec: {
        template: {
          spec: {
            containers: { env: { name: string; value?: string }[]; volumeMounts: { name: string; mountPath: string }[] }[];
            volumes: { name: string; configMap?: { name: string } }[];
          };
        };
      };
    };
    const pod = chatbot.spec.template.spec;
    const file = pod.containers[0].env.find((e) => e.name === 'CHATBOT_INTEGRATIONS_FILE')?.value ?? '';
    const mount = pod.containers[0].volumeMounts.find((m) => file.startsWith(`${m.mountPath}/`));
    const volume = pod.volumes.find((v) => v.name === mount?.name);
    const configMap = dev.app.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume?.configMap?.name) as
      | (K8sObject & { data: Record<string, string> })
      | undefined;
    expect(configMap?.data['integrations.yaml']).toBe(
      readRepoFile('config/integrations.sandbox.yaml').replaceAll('http://127.0.0.1:3100', 'http://cloud-api-sandbox'),
    );
    const staging = renders.get('staging')!.app.find((o) => o.kind === 'Deployment' && o.metadata.name === 'chatbot');
    expect(JSON.stringify(staging)).not.toContain('CHATBOT_INTEGRATIONS_FILE');
  });

  test('the Cloud API sandbox exists in dev only', () => {
    const has = (env: Env) => renders.get(env)!.app.some((o) => o.kind === 'Deployment' && o.metadata.name === 'cloud-api-sandbox');
    expect([has('dev'), has('staging'), has('prod')]).toEqual([true, false, false]);
  });

  test('staging and prod take every Secret from External Secrets; dev from documented names', () => {
    const kinds = (env: Env) => new Set(renders.get(env)!.app.map((o) => o.kind));
    expect(kinds('prod').has('ExternalSecret')).toBe(true);
    expect(kinds('staging').has('ExternalSecret')).toBe(true);
    expect(kinds('dev').has('ExternalSecret')).toBe(false);
  });
});

describeRendered('the rules catch bad manifests', () => {
  let dev: OverlayRender;
  let prod: OverlayRender;

  beforeAll(async () => {
    [dev, prod] = await Promise.all([renderOverlay('dev'), renderOverlay('prod')]);
  });

  type Mutation = (r: OverlayRender) => void;
  const find = (objects: K8sObject[], kind: string, name: string) => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name.startsWith(name));
    if (!found) throw new Error(`${kind}/${name} not in render`);
    // Mutations reach deep into arbitrary kinds; typing each path would only obscure the cases.
    return found as K8sObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const container = (r: OverlayRender, name: string) => find(r.app, 'Deployment', name).spec.template.spec.containers[0];

  const cases: [string, 'dev' | 'prod', Mutation, RegExp][] = [
    ['a missing readiness probe', 'dev', (r) => delete container(r, 'chatbot').readinessProbe, /Deployment\/chatbot: readinessProbe/],
    [
      'a liveness probe on the readiness endpoint',
      'dev',
      (r) => (container(r, 'chatbot').livenessProbe.httpGet.path = '/health/ready'),
      /livenessProbe must GET \/health\/live/,
    ],
    ['the latest tag', 'prod', (r) => (container(r, 'chatbot').image = 'ghcr.io/example-agency/wa-gov-platform:latest'), /latest tag/],
    [
      'a writable root filesystem',
      'dev',
      (r) => (container(r, 'handoff-router').securityContext.readOnlyRootFilesystem = false),
      /readOnlyRootFilesystem/,
    ],
    [
      'running as root',
      'dev',
      (r) => (find(r.app, 'Deployment', 'chatbot').spec.template.spec.securityContext.runAsUser = 0),
      /uid\/gid 1000/,
    ],
    [
      'a heap larger than the memory limit allows',
      'prod',
      (r) => (container(r, 'outbound-gateway').resources.limits.memory = '512Mi'),
      /max-old-space-size=576/,
    ],
    ['no memory limit', 'dev', (r) => delete container(r, 'chatbot').resources.limits.memory, /memory limit is required/],
    [
      'a grace period shorter than the drain',
      'dev',
      (r) => (find(r.app, 'Deployment', 'chatbot').spec.template.spec.terminationGracePeriodSeconds = 20),
      /terminationGracePeriodSeconds 20/,
    ],
    [
      'a plain Secret object',
      'dev',
      (r) => r.app.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'oops', namespace: 'wa-dev' }, stringData: { x: 'y' } }),
      /Secret\/oops/,
    ],
    [
      'a token as a plain env value',
      'dev',
      (r) => container(r, 'outbound-gateway').env.push({ name: 'ROADS_ACCESS_TOKEN', value: 'abc' }),
      /ROADS_ACCESS_TOKEN carries a plain value/,
    ],
    [
      'credentials in a ConfigMap URL',
      'dev',
      (r) => (find(r.app, 'ConfigMap', 'wa-platform').data.KAFKA_REST = 'https://user:pw@example.org'),
      /embeds credentials/,
    ],
    [
      'an undocumented dev Secret',
      'dev',
      (r) => container(r, 'chatbot').envFrom.push({ secretRef: { name: 'mystery' } }),
      /Secret mystery is neither/,
    ],
    [
      'a prod Secret no ExternalSecret provides',
      'prod',
      (r) => (r.app = r.app.filter((o) => !(o.kind === 'ExternalSecret' && o.metadata.name === 'chatbot-db'))),
      /Secret chatbot-db is not synced/,
    ],
    [
      'a missing PodDisruptionBudget',
      'dev',
      (r) => (r.app = r.app.filter((o) => !(o.kind === 'PodDisruptionBudget' && o.metadata.name === 'outbound-gateway'))),
      /outbound-gateway: no PodDisruptionBudget/,
    ],
    [
      'an HPA next to a ScaledObject',
      'dev',
      (r) =>
        r.app.push({
          ...clone(find(r.app, 'HorizontalPodAutoscaler', 'webhook-ingress')),
          metadata: { name: 'chatbot', namespace: 'wa-dev' },
          spec: {
            ...clone(find(r.app, 'HorizontalPodAutoscaler', 'webhook-ingress').spec),
            scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'chatbot' },
          },
        }),
      /chatbot: more than one autoscaler/,
    ],
    ['replicas on an autoscaled Deployment', 'dev', (r) => (find(r.app, 'Deployment', 'chatbot').spec.replicas = 3), /sets replicas/],
    [
      'KEDA scaling past the partition count',
      'prod',
      (r) => (find(r.app, 'ScaledObject', 'template-registry').spec.maxReplicaCount = 9),
      /exceeds the 3 partitions/,
    ],
    [
      'a KEDA trigger on a topic not in the registry',
      'dev',
      (r) => (find(r.app, 'ScaledObject', 'chatbot').spec.triggers[0].metadata.topic = 'wa.inbound.messages.v1'),
      /not in libs\/contracts/,
    ],
    [
      'a consumer without a KEDA trigger (the gateway reading statuses)',
      'prod',
      (r) =>
        (find(r.app, 'ScaledObject', 'outbound-gateway').spec.triggers = find(
          r.app,
          'ScaledObject',
          'outbound-gateway',
        ).spec.triggers.filter((t: { metadata: { topic: string } }) => t.metadata.topic !== 'wa.message.status.v1')),
      /outbound-gateway: no trigger for wa.message.status.v1/,
    ],
    [
      'a KEDA trigger on a topic nothing in the group consumes',
      'prod',
      (r) => (find(r.app, 'ScaledObject', 'handoff-router').spec.triggers[0].metadata.topic = 'agency.event.v1'),
      /handoff-router: trigger on agency.event.v1, which handoff-router does not consume/,
    ],
    [
      'replicas allowed to stack on one node',
      'prod',
      (r) =>
        (find(r.app, 'Deployment', 'outbound-gateway').spec.template.spec.topologySpreadConstraints[1].whenUnsatisfiable =
          'ScheduleAnyway'),
      /outbound-gateway: needs a kubernetes.io\/hostname spread/,
    ],
    [
      "the console's API on the admin host, where /v1/templates is the registry's",
      'prod',
      (r) => (find(r.app, 'Ingress', 'wa-console').spec.rules[0].host = find(r.app, 'Ingress', 'wa-admin').spec.rules[0].host),
      /handoff-router's \/v1\/templates is not reachable \(it reaches template-registry\)/,
    ],
    [
      'the admin API on the webhook host',
      'prod',
      (r) => (find(r.app, 'Ingress', 'wa-admin').spec.rules[0].host = find(r.app, 'Ingress', 'wa-webhook').spec.rules[0].host),
      /serves the webhook and other routes/,
    ],
    [
      'a catch-all route that would expose /metrics and /docs',
      'prod',
      (r) => (find(r.app, 'Ingress', 'wa-webhook').spec.rules[0].http.paths[0].path = '/'),
      /path \/ would expose/,
    ],
    [
      "a webhook body limit other than the receiver's",
      'prod',
      (r) => (find(r.app, 'Ingress', 'wa-webhook').metadata.annotations!['nginx.ingress.kubernetes.io/proxy-body-size'] = '10m'),
      /proxy-body-size must be the receiver's limit \(4194304 bytes\), not 10485760/,
    ],
    [
      'an Ingress without TLS',
      'prod',
      (r) => delete find(r.app, 'Ingress', 'wa-admin').spec.tls,
      /wa-admin: host admin.wa.example.gov has no TLS/,
    ],
    [
      'an Ingress without a cert-manager issuer',
      'prod',
      (r) => delete find(r.app, 'Ingress', 'wa-webhook').metadata.annotations!['cert-manager.io/cluster-issuer'],
      /wa-webhook: needs a cert-manager issuer/,
    ],
    [
      "the scheduler's admin API left out of the Ingress",
      'prod',
      (r) =>
        (find(r.app, 'Ingress', 'wa-admin').spec.rules[0].http.paths = find(r.app, 'Ingress', 'wa-admin').spec.rules[0].http.paths.filter(
          (p: { backend: { service: { name: string } } }) => p.backend.service.name !== 'notification-scheduler',
        )),
      /no route to notification-scheduler's API/,
    ],
    [
      'a KEDA consumer group that is not the service',
      'dev',
      (r) => (find(r.app, 'ScaledObject', 'chatbot').spec.triggers[0].metadata.consumerGroup = 'chatbot-server'),
      /consumerGroup chatbot-server/,
    ],
    [
      'internet egress for a worker that calls nothing outside',
      'prod',
      (r) =>
        (find(r.app, 'NetworkPolicy', 'webhook-ingress-normalizer').spec.egress = clone(
          find(r.app, 'NetworkPolicy', 'outbound-gateway').spec.egress,
        )),
      /webhook-ingress-normalizer: must not reach the internet/,
    ],
    ['no default deny', 'dev', (r) => (r.app = r.app.filter((o) => o.metadata.name !== 'default-deny')), /no default-deny/],
    [
      "the scheduler's admin API unreachable from the ingress controller",
      'prod',
      (r) => find(r.app, 'NetworkPolicy', 'notification-scheduler').spec.ingress.shift(),
      /notification-scheduler: its HTTP API is unreachable from the ingress controller/,
    ],
    [
      'a service that verifies tokens but cannot fetch the JWKS',
      'prod',
      (r) => (find(r.app, 'NetworkPolicy', 'notification-scheduler').spec.egress = []),
      /notification-scheduler: needs public HTTPS egress for jwks/,
    ],
    [
      'the chatbot without its route to the media API',
      'prod',
      (r) => find(r.app, 'NetworkPolicy', 'chatbot').spec.egress.pop(),
      /chatbot: no egress to webhook-ingress:3001 \(media-api\)/,
    ],
    [
      'the media API closed to the chatbot',
      'prod',
      (r) => find(r.app, 'NetworkPolicy', 'webhook-ingress').spec.ingress.splice(1, 1),
      /webhook-ingress: does not accept chatbot's media-api calls/,
    ],
    [
      'an in-cluster call the code never makes',
      'prod',
      (r) =>
        find(r.app, 'NetworkPolicy', 'template-registry').spec.egress.push(clone(find(r.app, 'NetworkPolicy', 'chatbot').spec.egress[1])),
      /template-registry: egress to webhook-ingress that its code does not call/,
    ],
    [
      'the media API open to a service that does not call it',
      'prod',
      (r) =>
        (find(r.app, 'NetworkPolicy', 'webhook-ingress').spec.ingress[1].from[0].podSelector.matchLabels['app.kubernetes.io/name'] =
          'outbound-gateway'),
      /webhook-ingress: accepts traffic from outbound-gateway, which does not call it/,
    ],
    [
      'a service missing from the manifests',
      'dev',
      (r) => (r.app = r.app.filter((o) => !(o.kind === 'Deployment' && o.metadata.name === 'handoff-router'))),
      /Deployment\/handoff-router \(tools\/stack-services.ts\) is missing/,
    ],
    [
      'a container port that is not the stack port',
      'dev',
      (r) => (container(r, 'chatbot').ports[0].containerPort = 8080),
      /container port http must be 3005/,
    ],
    [
      'a Job that reuses last release name',
      'prod',
      (r) => (find(r.jobs, 'Job', 'chatbot-migrate').metadata.name = 'chatbot-migrate'),
      /release suffix -0-1-0/,
    ],
    ['a Job retrying forever', 'prod', (r) => (find(r.jobs, 'Job', 'db-bootstrap').spec.backoffLimit = 6), /backoffLimit must be 1/],
    [
      'a bootstrap that forgets a schema',
      'prod',
      (r) => (find(r.jobs, 'Job', 'db-bootstrap').spec.template.spec.containers[0].env[0].value = 'ingress,gateway'),
      /SCHEMAS/,
    ],
    [
      'a single-replica topic in prod',
      'prod',
      (r) => (find(r.topics, 'KafkaTopic', 'wa.outbound.request.v1').spec.replicas = 1),
      /needs replicas >= 3/,
    ],
    [
      'a topic missing from the overlay',
      'prod',
      (r) => (r.topics = r.topics.filter((o) => o.metadata.name !== 'chatbot.dlq')),
      /KafkaTopic for chatbot.dlq is missing/,
    ],
    [
      'the tools image in prod',
      'prod',
      (r) => (container(r, 'chatbot').image = 'ghcr.io/example-agency/wa-gov-platform-tools:0.1.0'),
      /tools image must not run in prod/,
    ],
    [
      'a tenant secret file that is not mounted',
      'prod',
      (r) =>
        (container(r, 'outbound-gateway').volumeMounts = container(r, 'outbound-gateway').volumeMounts.filter(
          (m: { name: string }) => m.name !== 'tenant-access-tokens',
        )),
      /outbound-gateway: tenant secret file:\/var\/run\/secrets\/wa\/access-tokens/,
    ],
    [
      'webhook receivers that still consume (the normalizers are their own Deployment)',
      'prod',
      (r) =>
        (container(r, 'webhook-ingress').env = container(r, 'webhook-ingress').env.filter(
          (e: { name: string }) => e.name !== 'INGRESS_CONSUMERS',
        )),
      /webhook-ingress: must set INGRESS_CONSUMERS=false/,
    ],
    [
      'the normalizers behind the webhook Service',
      'dev',
      (r) => (find(r.app, 'Service', 'webhook-ingress').spec.selector = { 'app.kubernetes.io/component': 'worker' }),
      /Service\/webhook-ingress: selects the pods of worker webhook-ingress-normalizer/,
    ],
    [
      'normalizers scaled on another consumer group than the service',
      'prod',
      (r) =>
        (find(r.app, 'ScaledObject', 'webhook-ingress-normalizer').spec.triggers[0].metadata.consumerGroup = 'webhook-ingress-normalizer'),
      /consumerGroup webhook-ingress-normalizer is not the service's group webhook-ingress/,
    ],
    [
      'normalizers without the tenant secrets',
      'prod',
      (r) =>
        (container(r, 'webhook-ingress-normalizer').volumeMounts = container(r, 'webhook-ingress-normalizer').volumeMounts.filter(
          (m: { name: string }) => m.name !== 'tenant-app-secrets',
        )),
      /webhook-ingress-normalizer: tenant secret file:/,
    ],
    [
      'normalizers reachable from the internet',
      'dev',
      (r) =>
        find(r.app, 'NetworkPolicy', 'webhook-ingress-normalizer').spec.ingress.push(
          clone(find(r.app, 'NetworkPolicy', 'webhook-ingress').spec.ingress[0]),
        ),
      /webhook-ingress-normalizer: serves no public HTTP/,
    ],
    [
      'normalizers missing from the manifests',
      'prod',
      (r) => (r.app = r.app.filter((o) => !(o.kind === 'Deployment' && o.metadata.name === 'webhook-ingress-normalizer'))),
      /webhook-ingress-normalizer \(worker of webhook-ingress/,
    ],
  ];

  test.each(cases)('catches %s', (_what, env, mutate, expected) => {
    const broken = clone(env === 'dev' ? dev : prod);
    mutate(broken);
    const violations = checkOverlay(broken, ctx);
    expect(violations.some((v) => expected.test(v))).toBe(true);
  });

  test('the unmodified renders pass the same checks', () => {
    expect(checkOverlay(clone(dev), ctx)).toEqual([]);
    expect(checkOverlay(clone(prod), ctx)).toEqual([]);
  });

  test.each([
    [
      'a container port given as text',
      () => {
        const d = clone(find(dev.app, 'Deployment', 'chatbot'));
        d.spec.template.spec.containers[0].ports[0].containerPort = 'http';
        return d;
      },
      /containerPort must be integer/,
    ],
    [
      'a misspelt KEDA field',
      () => {
        const s = clone(find(dev.app, 'ScaledObject', 'chatbot'));
        s.spec.triggers[0].metadata.lagTreshold = '10';
        return s;
      },
      /lagTreshold is not a known field/,
    ],
    [
      'a KafkaTopic without its cluster label',
      () => {
        const t = clone(find(prod.topics, 'KafkaTopic', 'agency.case.v1'));
        delete t.metadata.labels!['strimzi.io/cluster'];
        return t;
      },
      /strimzi.io\/cluster is required/,
    ],
    [
      'an ExternalSecret without data',
      () => {
        const e = clone(find(prod.app, 'ExternalSecret', 'chatbot-db'));
        delete e.spec.data;
        return e;
      },
      /spec.data or spec.dataFrom is required/,
    ],
    ['an unknown kind', () => ({ apiVersion: 'example.org/v1', kind: 'Widget', metadata: { name: 'w' } }) as K8sObject, /no validator/],
  ])('schema validation catches %s', (_what, build, expected) => {
    const problems = validateObject(build());
    expect(problems.some((p) => expected.test(p))).toBe(true);
  });
});

describeRendered('deploy/overlays/platform (Kafka and PostgreSQL for clusters without them)', () => {
  let platform: K8sObject[];

  beforeAll(async () => {
    platform = await kustomize('deploy/overlays/platform');
  });

  test('every object validates and the platform rules hold', () => {
    expect(platform.flatMap(validateObject)).toEqual([]);
    expect(checkPlatform(platform)).toEqual([]);
  });

  test('its Kafka is the one the environments reach', async () => {
    const prod = await renderOverlay('prod');
    const servers = prod.app
      .filter((o) => o.kind === 'ScaledObject')
      .flatMap((o) =>
        (o.spec as { triggers: { metadata: { bootstrapServers: string } }[] }).triggers.map((t) => t.metadata.bootstrapServers),
      );
    const kafka = platform.find((o) => o.kind === 'Kafka')!;
    expect(new Set(servers)).toEqual(new Set([`${kafka.metadata.name}-kafka-bootstrap.${kafka.metadata.namespace}.svc:9092`]));
  });

  type Mutation = (objects: K8sObject[]) => void;
  // Mutations reach into CRDs; typing each path would only obscure the cases.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const get = (objects: K8sObject[], kind: string) => objects.find((o) => o.kind === kind) as K8sObject & Record<string, any>;
  test.each([
    ['two brokers', (o) => (get(o, 'KafkaNodePool').spec.replicas = 2), /2 brokers/],
    ['no rack awareness', (o) => delete get(o, 'Kafka').spec.kafka.rack, /rack awareness/],
    ['no Kafka Exporter', (o) => delete get(o, 'Kafka').spec.kafkaExporter, /Kafka Exporter/],
    [
      'brokers free to share a zone',
      (o) => (get(o, 'KafkaNodePool').spec.template.pod.topologySpreadConstraints[0].whenUnsatisfiable = 'ScheduleAnyway'),
      /spread across zones/,
    ],
    ['one PostgreSQL instance', (o) => (get(o, 'Cluster').spec.instances = 1), /1 instances/],
    ['no synchronous standby', (o) => delete get(o, 'Cluster').spec.minSyncReplicas, /synchronous standby/],
    ['no backups', (o) => delete get(o, 'Cluster').spec.backup, /WAL archiving/],
    ['no scheduled backup', (o) => o.splice(o.indexOf(get(o, 'ScheduledBackup')), 1), /no ScheduledBackup/],
  ] as [string, Mutation, RegExp][])('catches %s', (_what, mutate, expected) => {
    const broken = clone(platform);
    mutate(broken);
    expect(checkPlatform(broken).some((v) => expected.test(v))).toBe(true);
  });

  test('schema validation catches a five-field backup schedule', () => {
    const b = clone(get(platform, 'ScheduledBackup'));
    b.spec.schedule = '0 2 * * *';
    expect(validateObject(b).some((p) => /six-field cron/.test(p))).toBe(true);
  });
});

describeRendered('deploy/argocd/<env>: one Argo CD Application per environment, migrations first', () => {
  const renders = new Map<Env, { argo: K8sObject[]; plain: OverlayRender }>();

  beforeAll(async () => {
    for (const env of ENVS) renders.set(env, { argo: await kustomize(`deploy/argocd/${env}`), plain: await renderOverlay(env) });
  });

  const ids = (objects: K8sObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();

  test.each(ENVS)('%s: the same objects as the overlay and its jobs, in waves', (env) => {
    const { argo, plain } = renders.get(env)!;
    expect(ids(argo)).toEqual(ids([...plain.app, ...plain.jobs]));
    expect(checkWaves(argo)).toEqual([]);
  });

  const annotate = (o: K8sObject | undefined, value: string) => {
    if (!o) throw new Error('object not in render');
    o.metadata.annotations = { 'argocd.argoproj.io/sync-wave': value };
  };
  test.each([
    [
      "Deployments in the migrations' wave",
      (o: K8sObject[]) =>
        annotate(
          o.find((x) => x.kind === 'Deployment'),
          '-1',
        ),
      /is not after the migrations/,
    ],
    [
      'a migration beside the bootstrap',
      (o: K8sObject[]) =>
        annotate(
          o.find((x) => x.metadata.name.startsWith('chatbot-migrate')),
          '-2',
        ),
      /is not after the bootstrap/,
    ],
    [
      'the Secrets after the Jobs',
      (o: K8sObject[]) =>
        annotate(
          o.find((x) => x.kind === 'ExternalSecret'),
          '0',
        ),
      /is not before the Jobs/,
    ],
  ] as [string, (o: K8sObject[]) => void, RegExp][])('catches %s', (_what, mutate, expected) => {
    const broken = clone(renders.get('prod')!.argo);
    mutate(broken);
    expect(checkWaves(broken).some((v) => expected.test(v))).toBe(true);
  });
});
