// The deployment rules (docs/operations.md, engineering anchors §5) as a function from rendered
// manifests to a list of violations, so the tests can also prove that a bad manifest is caught.
import { dirname } from 'node:path';
import { Script } from 'node:vm';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { ServiceWorker } from '../../tools/stack-services';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IService } from 'kubernetes-models/v1/Service';
import { TenantRegistry } from '@wa/tenancy';
import type { K8sObject, OverlayRender } from './support';

export interface PlatformService {
  name: string;
  schema: string;
  port: number;
}

/**
 * Calls a service makes beyond Kafka, Postgres, DNS and OTel: the Cloud API (graph.facebook.com),
 * the identity provider's JWKS, tenants' HTTP integrations (all three public HTTPS), and the
 * webhook ingress's media API (in the cluster).
 */
export type OutboundCall = 'cloud-api' | 'jwks' | 'integrations' | 'media-api';
const PUBLIC_CALLS: OutboundCall[] = ['cloud-api', 'jwks', 'integrations'];
/** In-cluster calls: which Deployment (by name) and port serve them. */
const IN_CLUSTER_CALLS: Partial<Record<OutboundCall, { target: string; port: number }>> = {
  'media-api': { target: 'webhook-ingress', port: 3001 },
};
/** The dev-only Cloud API sandbox stands in for Meta and for the agencies' systems. */
const SANDBOX = 'cloud-api-sandbox';

export interface PolicyContext {
  services: PlatformService[];
  /** Deployments that run a service's consumers apart from its HTTP replicas (tools/stack-services.ts). */
  workers: ServiceWorker[];
  /**
   * Topics each service's consumers read, by service name, from its code (`@EventPattern` and
   * ConsumerHost register/registerBatch) plus its group's retry topic.
   */
  consumes: Map<string, string[]>;
  /** Partitions per topic name (libs/contracts). */
  partitions: Map<string, number>;
  /** Every topic the platform needs: the registry plus each group's retry and DLQ topics. */
  requiredTopics: string[];
  /** Services reachable from the ingress controller (public webhook, REST APIs). */
  publicHttp: Set<string>;
  /**
   * What each Deployment's code calls outside the platform-egress basics (Kafka, Postgres, DNS,
   * OTel), by Deployment name, derived from the code (deploy/test/manifests.spec.ts).
   */
  calls: Map<string, Set<OutboundCall>>;
  /** The only service on an HPA; every other platform service scales with KEDA. */
  hpaServices: Set<string>;
  /** The API path prefixes each service serves to people (from its controllers), by service name. */
  apiRoutes: Map<string, string[]>;
  /** The webhook receiver's body limit in bytes (its ServiceDescriptor.bodyLimit). */
  webhookBodyLimit: number;
  /** Secret names docs/operations.md tells operators to create by hand (dev). */
  documentedSecrets: Set<string>;
  /** config/tenants.sandbox.yaml, which the dev overlay must ship unchanged. */
  sandboxTenants: string;
}

interface ScaledObject extends K8sObject {
  spec: {
    scaleTargetRef: { name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    triggers: { type: string; metadata: Record<string, string> }[];
  };
}
interface KafkaTopic extends K8sObject {
  spec: { topicName?: string; partitions: number; replicas: number; config?: Record<string, string | number> };
}
interface ExternalSecret extends K8sObject {
  spec: { target: { name: string } };
}
type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };

const INGRESS_CONTROLLER_NAMESPACE = 'ingress-nginx';
const MONITORING_NAMESPACE = 'monitoring';
const SECRETISH = /SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_KEY|DATABASE_URL|CREDENTIAL/i;
const CREDENTIALS_IN_URL = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;

const ofKind = <T>(objects: K8sObject[], kind: string): (K8sObject & T)[] => objects.filter((o) => o.kind === kind) as (K8sObject & T)[];

export function selects(selector: Selector | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const inValues = (e.values ?? []).includes(labels[e.key]);
    if (e.operator === 'In' && !(has && inValues)) return false;
    if (e.operator === 'NotIn' && has && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** Quantity in MiB ("512Mi", "1Gi", "800M"). */
export function mebibytes(quantity: string | number | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(String(quantity));
  if (!m) return undefined;
  const n = Number(m[1]);
  const factor: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, K: 1000 / 1048576, M: 1e6 / 1048576, G: 1e9 / 1048576 };
  return m[2] ? n * factor[m[2]] : n / 1048576;
}

function imageTag(image: string): { name: string; tag?: string; digest?: string } {
  const [withoutDigest, digest] = image.split('@');
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon > slash) return { name: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1), digest };
  return { name: withoutDigest, digest };
}

function envValue(container: IContainer, name: string): string | undefined {
  return container.env?.find((e) => e.name === name)?.value;
}

function containerPort(container: IContainer, port: string | number | undefined): number | undefined {
  if (typeof port === 'number') return container.ports?.some((p) => p.containerPort === port) ? port : undefined;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

function preStopSleepSeconds(container: IContainer): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return preStop.sleep.seconds;
  const command = preStop?.exec?.command ?? [];
  if (command[0] === 'sleep' && /^\d+$/.test(command[1] ?? '')) return Number(command[1]);
  return 0;
}

function allContainers(pod: IPodSpec): IContainer[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

/** Rules every pod of the platform follows, Deployment or Job. */
function checkPod(id: string, pod: IPodSpec | undefined, v: string[]): void {
  if (!pod) {
    v.push(`${id}: no pod spec`);
    return;
  }
  if (pod.automountServiceAccountToken !== false) v.push(`${id}: automountServiceAccountToken must be false`);
  const psc = pod.securityContext ?? {};
  if (psc.runAsNonRoot !== true) v.push(`${id}: pod securityContext.runAsNonRoot must be true`);
  if (psc.runAsUser !== 1000 || psc.runAsGroup !== 1000 || psc.fsGroup !== 1000)
    v.push(`${id}: pod must run as uid/gid 1000 with fsGroup 1000`);
  if (psc.seccompProfile?.type !== 'RuntimeDefault') v.push(`${id}: seccompProfile must be RuntimeDefault`);
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) v.push(`${id}: host namespaces are not allowed`);
  for (const volume of pod.volumes ?? []) if (volume.hostPath) v.push(`${id}: hostPath volume ${volume.name} is not allowed`);
  for (const c of allContainers(pod)) {
    const cid = `${id} container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) v.push(`${cid}: allowPrivilegeEscalation must be false`);
    if (sc.readOnlyRootFilesystem !== true) v.push(`${cid}: readOnlyRootFilesystem must be true`);
    if (sc.privileged) v.push(`${cid}: must not be privileged`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) v.push(`${cid}: capabilities must drop ALL`);
    if ((sc.capabilities?.add ?? []).length) v.push(`${cid}: must not add capabilities`);
    if (sc.runAsUser === 0) v.push(`${cid}: must not run as root`);
    const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
    const tmpVolume = pod.volumes?.find((vol) => vol.name === tmp?.name);
    if (!tmp || !tmpVolume?.emptyDir) v.push(`${cid}: /tmp must be an emptyDir (the root filesystem is read-only)`);
    const requests = c.resources?.requests ?? {};
    const limits = c.resources?.limits ?? {};
    if (requests.cpu === undefined || requests.memory === undefined) v.push(`${cid}: cpu and memory requests are required`);
    if (limits.memory === undefined) v.push(`${cid}: a memory limit is required`);
    const limitMi = mebibytes(limits.memory);
    const heap = /--max-old-space-size=(\d+)/.exec(envValue(c, 'NODE_OPTIONS') ?? '');
    if (!heap) v.push(`${cid}: NODE_OPTIONS must set --max-old-space-size`);
    else if (limitMi !== undefined && Number(heap[1]) > limitMi * 0.8)
      v.push(`${cid}: --max-old-space-size=${heap[1]} leaves too little of the ${limits.memory} limit (keep it <= 80%)`);
    const image = imageTag(c.image ?? '');
    if (!image.tag && !image.digest) v.push(`${cid}: image ${c.image} has no tag or digest`);
    if (image.tag === 'latest') v.push(`${cid}: image ${c.image} uses the latest tag`);
    if (!image.name.includes('/')) v.push(`${cid}: image ${c.image} names no registry (overlay images: missing?)`);
    for (const e of c.env ?? []) {
      if (e.value !== undefined && SECRETISH.test(e.name) && !/_(FILE|PATH|URL_FILE)$/.test(e.name))
        v.push(`${cid}: env ${e.name} carries a plain value; take it from a Secret`);
      if (e.value !== undefined && CREDENTIALS_IN_URL.test(e.value)) v.push(`${cid}: env ${e.name} embeds credentials in a URL`);
    }
  }
}

function labelsOf(o: { metadata?: { labels?: Record<string, string> } } | undefined): Record<string, string> {
  return o?.metadata?.labels ?? {};
}

function secretNamesUsed(pod: IPodSpec): string[] {
  const names = new Set<string>();
  for (const c of allContainers(pod)) {
    for (const from of c.envFrom ?? []) if (from.secretRef?.name) names.add(from.secretRef.name);
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) names.add(e.valueFrom.secretKeyRef.name);
  }
  for (const vol of pod.volumes ?? []) {
    if (vol.secret?.secretName) names.add(vol.secret.secretName);
    for (const source of vol.projected?.sources ?? []) if (source.secret?.name) names.add(source.secret.name);
  }
  return [...names];
}

function configMapNamesUsed(pod: IPodSpec): string[] {
  const names = new Set<string>();
  for (const c of allContainers(pod)) {
    for (const from of c.envFrom ?? []) if (from.configMapRef?.name) names.add(from.configMapRef.name);
    for (const e of c.env ?? []) if (e.valueFrom?.configMapKeyRef?.name) names.add(e.valueFrom.configMapKeyRef.name);
  }
  for (const vol of pod.volumes ?? []) if (vol.configMap?.name) names.add(vol.configMap.name);
  return [...names];
}

function portsInclude(ports: INetworkPolicyPort[] | undefined, port: number, protocol = 'TCP'): boolean {
  return (ports ?? []).some((p) => p.port === port && (p.protocol ?? 'TCP') === protocol);
}

function namespaceOfPeer(peer: { namespaceSelector?: Selector }): string | undefined {
  return peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
}

/** Every Deployment the platform rules apply to, by name: the services and their workers (with the service's port). */
function platformDeployments(ctx: PolicyContext): Map<string, PlatformService & { consumerGroup: string }> {
  const byName = new Map(ctx.services.map((s) => [s.name, { ...s, consumerGroup: s.name }]));
  for (const w of ctx.workers) {
    const service = byName.get(w.service);
    if (service) byName.set(w.name, { ...service, name: w.name, consumerGroup: service.name });
  }
  return byName;
}

function checkNetwork(app: K8sObject[], deployments: (K8sObject & IDeployment)[], ctx: PolicyContext, v: string[]): void {
  const policies = ofKind<INetworkPolicy>(app, 'NetworkPolicy');
  const denyAll = policies.some((p) => {
    const s = p.spec;
    const everyPod = !s?.podSelector?.matchLabels && !s?.podSelector?.matchExpressions;
    return everyPod && s?.policyTypes?.includes('Ingress') && s?.policyTypes?.includes('Egress') && !s.ingress?.length && !s.egress?.length;
  });
  if (!denyAll) v.push('NetworkPolicy: no default-deny policy (empty podSelector, Ingress and Egress, no rules)');
  for (const p of policies) {
    for (const rule of p.spec?.egress ?? []) {
      if (!rule.to?.length) v.push(`NetworkPolicy/${p.metadata?.name}: an egress rule without "to" allows every destination`);
      if (!rule.ports?.length) v.push(`NetworkPolicy/${p.metadata?.name}: an egress rule without ports allows every port`);
    }
    for (const rule of p.spec?.ingress ?? []) {
      if (!rule.from?.length) v.push(`NetworkPolicy/${p.metadata?.name}: an ingress rule without "from" allows every source`);
      if (!rule.ports?.length) v.push(`NetworkPolicy/${p.metadata?.name}: an ingress rule without ports allows every port`);
    }
  }
  const platform = platformDeployments(ctx);
  for (const d of deployments) {
    const name = d.metadata?.name ?? '';
    const service = platform.get(name);
    if (!service) continue;
    const podLabels = labelsOf(d.spec?.template);
    const selecting = policies.filter(
      (p) => selects(p.spec?.podSelector as Selector, podLabels) && p.spec?.podSelector && Object.keys(p.spec.podSelector).length > 0,
    );
    if (!selecting.some((p) => p.spec?.podSelector?.matchLabels?.['app.kubernetes.io/name'] === name))
      v.push(`Deployment/${name}: no NetworkPolicy of its own`);
    const egress = selecting.flatMap((p) => p.spec?.egress ?? []);
    const ingress = selecting.flatMap((p) => p.spec?.ingress ?? []);
    const need: [string, (ports: INetworkPolicyPort[] | undefined) => boolean][] = [
      ['DNS', (ports) => portsInclude(ports, 53, 'UDP')],
      ['Kafka', (ports) => portsInclude(ports, 9092) || portsInclude(ports, 9093)],
      ['Postgres', (ports) => portsInclude(ports, 5432)],
      ['OTel collector', (ports) => portsInclude(ports, 4317) || portsInclude(ports, 4318)],
    ];
    for (const [what, test] of need) if (!egress.some((r) => test(r.ports))) v.push(`Deployment/${name}: no egress to ${what}`);
    const publicHttps = egress.some((r) => r.to?.some((peer) => peer.ipBlock?.cidr === '0.0.0.0/0') && portsInclude(r.ports, 443));
    const calls = ctx.calls.get(name) ?? new Set<OutboundCall>();
    const publicReasons = PUBLIC_CALLS.filter((c) => calls.has(c));
    if (publicHttps && !publicReasons.length)
      v.push(`Deployment/${name}: must not reach the internet (its code calls no Cloud API, JWKS or tenant integration)`);
    if (!publicHttps && publicReasons.length) v.push(`Deployment/${name}: needs public HTTPS egress for ${publicReasons.join(', ')}`);
    // In-cluster egress to other pods: only the calls its code makes.
    const podEgress = egress.flatMap((r) =>
      (r.to ?? []).filter((peer) => peer.podSelector && !peer.namespaceSelector).map((peer) => ({ peer, ports: r.ports })),
    );
    for (const { peer, ports } of podEgress) {
      const target = peer.podSelector?.matchLabels?.['app.kubernetes.io/name'];
      const explained =
        (target === SANDBOX && publicReasons.some((c) => c !== 'jwks')) ||
        [...calls].some((c) => IN_CLUSTER_CALLS[c]?.target === target && portsInclude(ports, IN_CLUSTER_CALLS[c]!.port));
      if (!explained) v.push(`Deployment/${name}: egress to ${target ?? 'pods'} that its code does not call`);
    }
    for (const call of calls) {
      const inCluster = IN_CLUSTER_CALLS[call];
      if (!inCluster) continue;
      if (
        !podEgress.some(
          ({ peer, ports }) =>
            peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] === inCluster.target && portsInclude(ports, inCluster.port),
        )
      )
        v.push(`Deployment/${name}: no egress to ${inCluster.target}:${inCluster.port} (${call})`);
      const target = deployments.find((t) => t.metadata?.name === inCluster.target);
      const targetIngress = policies
        .filter((p) => target && selects(p.spec?.podSelector as Selector, labelsOf(target.spec?.template)))
        .flatMap((p) => p.spec?.ingress ?? []);
      if (
        !targetIngress.some(
          (r) =>
            r.from?.some((peer) => selects(peer.podSelector as Selector, podLabels) && !peer.namespaceSelector) &&
            portsInclude(r.ports, inCluster.port),
        )
      )
        v.push(`Deployment/${inCluster.target}: does not accept ${name}'s ${call} calls on ${inCluster.port}`);
    }
    // In-cluster ingress from other pods: only from Deployments whose code calls it.
    for (const rule of ingress)
      for (const peer of rule.from ?? []) {
        if (!peer.podSelector || peer.namespaceSelector) continue;
        const callers = deployments.filter((c) => selects(peer.podSelector as Selector, labelsOf(c.spec?.template)));
        for (const caller of callers) {
          const callerName = caller.metadata?.name ?? '';
          const justified =
            callerName === SANDBOX || [...(ctx.calls.get(callerName) ?? [])].some((c) => IN_CLUSTER_CALLS[c]?.target === name);
          if (!justified) v.push(`Deployment/${name}: accepts traffic from ${callerName}, which does not call it`);
        }
      }
    for (const rule of ingress) {
      for (const port of rule.ports ?? [])
        if (port.port !== service.port && port.port !== 'http')
          v.push(`Deployment/${name}: ingress allowed on port ${port.port}, which it does not serve`);
      const fromController = rule.from?.some(
        (peer) => namespaceOfPeer(peer as { namespaceSelector?: Selector }) === INGRESS_CONTROLLER_NAMESPACE,
      );
      if (fromController && !ctx.publicHttp.has(name))
        v.push(`Deployment/${name}: serves no public HTTP but accepts traffic from the ingress controller`);
    }
    const hasController = ingress.some((r) =>
      r.from?.some((peer) => namespaceOfPeer(peer as { namespaceSelector?: Selector }) === INGRESS_CONTROLLER_NAMESPACE),
    );
    if (ctx.publicHttp.has(name) && !hasController) v.push(`Deployment/${name}: its HTTP API is unreachable from the ingress controller`);
    if (!ingress.some((r) => r.from?.some((peer) => namespaceOfPeer(peer as { namespaceSelector?: Selector }) === MONITORING_NAMESPACE)))
      v.push(`Deployment/${name}: Prometheus (namespace ${MONITORING_NAMESPACE}) cannot scrape /metrics`);
  }
}

const WEBHOOK_PATH = '/webhooks/whatsapp';
const PRIVATE_PATHS = /^\/(metrics|docs|health)(\/|$)/;

/** Size annotation ("4m", "100m", "512k") in bytes. */
function nginxSize(value: string | undefined): number | undefined {
  const m = /^(\d+)([kmg]?)$/i.exec(value ?? '');
  if (!m) return undefined;
  return Number(m[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
}

/**
 * Only the webhook path on the internet-facing host, with the receiver's body limit; every other
 * route on separate hosts; TLS from cert-manager everywhere; nothing routes /metrics, /docs or
 * /health (or a catch-all that would include them).
 */
function checkIngress(app: K8sObject[], ctx: PolicyContext, v: string[]): void {
  const ingresses = ofKind<IIngress>(app, 'Ingress');
  const services = ofKind<IService>(app, 'Service');
  const webhookHosts = new Set<string>();
  const otherHosts = new Set<string>();
  let webhookRouted = false;
  for (const ing of ingresses) {
    const id = `Ingress/${ing.metadata?.name}`;
    const annotations = ing.metadata?.annotations ?? {};
    if (!annotations['cert-manager.io/cluster-issuer'] && !annotations['cert-manager.io/issuer'])
      v.push(`${id}: needs a cert-manager issuer annotation`);
    if (!ing.spec?.ingressClassName) v.push(`${id}: ingressClassName is required`);
    const tlsHosts = new Set((ing.spec?.tls ?? []).flatMap((t) => t.hosts ?? []));
    for (const rule of ing.spec?.rules ?? []) {
      if (!rule.host) v.push(`${id}: a rule without host answers on every name`);
      else if (!tlsHosts.has(rule.host)) v.push(`${id}: host ${rule.host} has no TLS`);
      for (const path of rule.http?.paths ?? []) {
        const backend = path.backend.service?.name ?? '';
        const p = path.path ?? '/';
        if (p === '/' || PRIVATE_PATHS.test(p) || !p.startsWith('/'))
          v.push(`${id}: path ${p} would expose /metrics, /docs or /health (route API prefixes only)`);
        if (path.pathType === 'ImplementationSpecific') v.push(`${id}: path ${p} must be Prefix or Exact (no regex routes)`);
        const svc = services.find((s) => s.metadata?.name === backend);
        if (!svc) v.push(`${id}: backend ${backend} is not a Service in the overlay`);
        else {
          const port = path.backend.service?.port;
          if (!svc.spec?.ports?.some((sp) => sp.name === port?.name || sp.port === port?.number))
            v.push(`${id}: backend ${backend} has no port ${port?.name ?? port?.number}`);
        }
        if (!ctx.publicHttp.has(backend)) v.push(`${id}: routes to ${backend}, which serves no public HTTP`);
        if (backend === 'webhook-ingress') {
          webhookRouted = true;
          if (rule.host) webhookHosts.add(rule.host);
          if (p !== WEBHOOK_PATH || path.pathType !== 'Prefix')
            v.push(`${id}: only ${WEBHOOK_PATH} (Prefix) of webhook-ingress may be routed, not ${p}`);
          const limit = nginxSize(annotations['nginx.ingress.kubernetes.io/proxy-body-size']);
          if (limit !== ctx.webhookBodyLimit)
            v.push(`${id}: proxy-body-size must be the receiver's limit (${ctx.webhookBodyLimit} bytes), not ${limit ?? 'unset'}`);
        } else if (rule.host) otherHosts.add(rule.host);
      }
    }
  }
  if (!webhookRouted) v.push(`Ingress: nothing routes ${WEBHOOK_PATH} to webhook-ingress`);
  for (const host of webhookHosts)
    if (otherHosts.has(host)) v.push(`Ingress: host ${host} serves the webhook and other routes (admin APIs need their own host)`);
  for (const name of ctx.publicHttp)
    if (
      name !== 'webhook-ingress' &&
      !ingresses.some((i) => i.spec?.rules?.some((r) => r.http?.paths.some((p) => p.backend.service?.name === name)))
    )
      v.push(`Ingress: no route to ${name}'s API`);
  // Every API prefix a service serves reaches that service on some host (nginx takes the longest
  // matching prefix, so a shorter path to another service on the same host does not count).
  const byHost = new Map<string, { path: string; service: string }[]>();
  for (const ing of ingresses)
    for (const rule of ing.spec?.rules ?? [])
      for (const p of rule.http?.paths ?? [])
        byHost.set(rule.host ?? '*', [
          ...(byHost.get(rule.host ?? '*') ?? []),
          { path: p.path ?? '/', service: p.backend.service?.name ?? '' },
        ]);
  const reaches = (prefix: string) =>
    [...byHost.values()].map(
      (paths) =>
        paths
          .filter((p) => prefix === p.path || prefix.startsWith(`${p.path.replace(/\/$/, '')}/`))
          .sort((a, b) => b.path.length - a.path.length)[0]?.service,
    );
  for (const [service, prefixes] of ctx.apiRoutes)
    for (const prefix of prefixes) {
      const found = reaches(prefix).filter(Boolean);
      if (!found.includes(service))
        v.push(`Ingress: ${service}'s ${prefix} is not reachable${found.length ? ` (it reaches ${found.join(', ')})` : ''}`);
    }
}

function checkScaling(app: K8sObject[], deployments: (K8sObject & IDeployment)[], ctx: PolicyContext, v: string[]): void {
  const hpas = ofKind<IHorizontalPodAutoscaler>(app, 'HorizontalPodAutoscaler');
  const scaled = ofKind<ScaledObject>(app, 'ScaledObject') as ScaledObject[];
  const platformConfig = ofKind<IConfigMap>(app, 'ConfigMap').find((c) => c.metadata?.name?.startsWith('wa-platform'));
  const brokers = platformConfig?.data?.KAFKA_BROKERS;
  const prefix = platformConfig?.data?.KAFKA_TOPIC_PREFIX ?? '';
  const platform = platformDeployments(ctx);
  for (const d of deployments) {
    const name = d.metadata?.name ?? '';
    const group = platform.get(name)?.consumerGroup;
    if (!group) continue;
    const hpa = hpas.filter((h) => h.spec?.scaleTargetRef?.name === name);
    const keda = scaled.filter((s) => s.spec.scaleTargetRef.name === name);
    if (hpa.length + keda.length > 1) v.push(`Deployment/${name}: more than one autoscaler (HPA and KEDA must not share a Deployment)`);
    if (hpa.length + keda.length === 0) v.push(`Deployment/${name}: no autoscaler`);
    if (d.spec?.replicas !== undefined && hpa.length + keda.length > 0)
      v.push(`Deployment/${name}: sets replicas although an autoscaler owns the count`);
    if (ctx.hpaServices.has(name)) {
      if (!hpa.length) v.push(`Deployment/${name}: must scale with an HPA on CPU`);
      for (const h of hpa) {
        if (!h.spec?.metrics?.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu'))
          v.push(`HorizontalPodAutoscaler/${name}: must scale on CPU`);
        if ((h.spec?.minReplicas ?? 1) > h.spec!.maxReplicas) v.push(`HorizontalPodAutoscaler/${name}: minReplicas > maxReplicas`);
      }
    } else if (!keda.length) {
      v.push(`Deployment/${name}: must scale with a KEDA ScaledObject on consumer lag`);
    }
    for (const s of keda) {
      if (s.spec.minReplicaCount < 1)
        v.push(`ScaledObject/${name}: minReplicaCount must be >= 1 (the service also serves HTTP and its outbox)`);
      if (s.spec.minReplicaCount > s.spec.maxReplicaCount) v.push(`ScaledObject/${name}: minReplicaCount > maxReplicaCount`);
      let largest = 0;
      for (const t of s.spec.triggers) {
        const m = t.metadata;
        if (t.type !== 'kafka') continue;
        if (m.consumerGroup !== `${prefix}${group}`)
          v.push(`ScaledObject/${name}: consumerGroup ${m.consumerGroup} is not the service's group ${prefix}${group}`);
        if (brokers && m.bootstrapServers !== brokers)
          v.push(`ScaledObject/${name}: bootstrapServers ${m.bootstrapServers} differ from KAFKA_BROKERS ${brokers}`);
        const topic = m.topic?.startsWith(prefix) ? m.topic.slice(prefix.length) : m.topic;
        const partitions = ctx.partitions.get(topic);
        if (partitions === undefined) v.push(`ScaledObject/${name}: topic ${m.topic} is not in libs/contracts`);
        else largest = Math.max(largest, partitions);
        if (m.allowIdleConsumers === 'true') v.push(`ScaledObject/${name}: allowIdleConsumers would scale past the partition count`);
      }
      const service = ctx.workers.find((w) => w.name === name)?.service ?? name;
      const expected = new Set(ctx.consumes.get(service) ?? []);
      const triggered = new Set(
        s.spec.triggers.map((t) => (t.metadata.topic?.startsWith(prefix) ? t.metadata.topic.slice(prefix.length) : t.metadata.topic)),
      );
      for (const topic of expected)
        if (!triggered.has(topic)) v.push(`ScaledObject/${s.metadata.name}: no trigger for ${topic}, which ${service} consumes`);
      for (const topic of triggered)
        if (!expected.has(topic)) v.push(`ScaledObject/${s.metadata.name}: trigger on ${topic}, which ${service} does not consume`);
      if (largest && s.spec.maxReplicaCount > largest)
        v.push(`ScaledObject/${name}: maxReplicaCount ${s.spec.maxReplicaCount} exceeds the ${largest} partitions KEDA can use`);
    }
  }
  for (const h of hpas)
    if (!deployments.some((d) => d.metadata?.name === h.spec?.scaleTargetRef?.name))
      v.push(`HorizontalPodAutoscaler/${h.metadata?.name}: targets no Deployment`);
  for (const s of scaled)
    if (!deployments.some((d) => d.metadata?.name === s.spec.scaleTargetRef.name))
      v.push(`ScaledObject/${s.metadata.name}: targets no Deployment`);
}

function checkTenants(r: OverlayRender, deployments: (K8sObject & IDeployment)[], ctx: PolicyContext, v: string[]): void {
  const configMap = ofKind<IConfigMap>(r.app, 'ConfigMap').find((c) => c.metadata?.name?.startsWith('wa-tenants'));
  const text = configMap?.data?.['tenants.yaml'];
  if (!text) {
    v.push('ConfigMap wa-tenants with tenants.yaml is missing');
    return;
  }
  if (r.env === 'dev' && text !== ctx.sandboxTenants) v.push('dev tenants.yaml differs from config/tenants.sandbox.yaml');
  let registry: TenantRegistry;
  try {
    registry = TenantRegistry.parse(text, {});
  } catch (error) {
    v.push(`tenants.yaml is invalid: ${(error as Error).message}`);
    return;
  }
  const mounts = (service: string) =>
    deployments.find((d) => d.metadata?.name === service)?.spec?.template.spec?.containers[0].volumeMounts?.map((m) => m.mountPath) ?? [];
  const envSecrets = (service: string) =>
    deployments
      .find((d) => d.metadata?.name === service)
      ?.spec?.template.spec?.containers[0].envFrom?.filter((f) => f.secretRef && f.secretRef.name !== `${service}-db`) ?? [];
  // The ingress checks every app's secret and verify token at start-up, normalizers included.
  const withWorkers = (services: string[]) => [...services, ...ctx.workers.filter((w) => services.includes(w.service)).map((w) => w.name)];
  const needs: [string, string[]][] = [];
  for (const t of registry.tenants) needs.push([t.accessTokenRef, ['webhook-ingress', 'outbound-gateway', 'template-registry']]);
  for (const t of registry.tenants) {
    const app = registry.app(t.appId)!;
    for (const ref of [app.appSecretRef, app.verifyTokenRef, app.previousAppSecretRef])
      if (ref) needs.push([ref, withWorkers(['webhook-ingress'])]);
  }
  for (const [ref, services] of needs) {
    for (const service of services) {
      if (ref.startsWith('file:') && !mounts(service).includes(dirname(ref.slice(5))))
        v.push(`Deployment/${service}: tenant secret ${ref} is not mounted (no volume at ${dirname(ref.slice(5))})`);
      if (ref.startsWith('env:') && envSecrets(service).length === 0)
        v.push(`Deployment/${service}: tenant secret ${ref} has no Secret to come from`);
    }
  }
}

function checkJobs(
  r: OverlayRender,
  ctx: PolicyContext,
  platformImage: string | undefined,
  version: string | undefined,
  v: string[],
): void {
  const jobs = ofKind<IJob>(r.jobs, 'Job');
  const suffix = version ? `-${version.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}` : undefined;
  const selectors = [
    ...ofKind<IService>(r.app, 'Service').map((s) => ({
      id: `Service/${s.metadata?.name}`,
      selector: { matchLabels: s.spec?.selector } as Selector,
    })),
    ...ofKind<IPodDisruptionBudget>(r.app, 'PodDisruptionBudget').map((p) => ({
      id: `PodDisruptionBudget/${p.metadata?.name}`,
      selector: p.spec?.selector as Selector,
    })),
  ];
  for (const job of jobs) {
    const id = `Job/${job.metadata?.name}`;
    const pod = job.spec?.template.spec;
    checkPod(id, pod, v);
    if (job.spec?.backoffLimit !== 1) v.push(`${id}: backoffLimit must be 1`);
    if (!job.spec?.ttlSecondsAfterFinished) v.push(`${id}: ttlSecondsAfterFinished is required`);
    if (suffix && !job.metadata?.name?.endsWith(suffix))
      v.push(`${id}: name must end with the release suffix ${suffix} (Job templates are immutable)`);
    if (pod && !['Never', 'OnFailure'].includes(pod.restartPolicy ?? '')) v.push(`${id}: restartPolicy must be Never or OnFailure`);
    for (const c of pod?.containers ?? [])
      if (platformImage && c.image !== platformImage) v.push(`${id}: runs ${c.image}, not the release image ${platformImage}`);
    const labels = labelsOf(job.spec?.template);
    for (const s of selectors)
      if (s.selector && (s.selector.matchLabels || s.selector.matchExpressions) && selects(s.selector, labels))
        v.push(`${id}: its pods are selected by ${s.id}`);
    if (version && labels['app.kubernetes.io/version'] !== version) v.push(`${id}: pod label app.kubernetes.io/version must be ${version}`);
  }
  for (const service of ctx.services) {
    const job = jobs.find((j) =>
      j.spec?.template.spec?.containers.some((c) => (c.args ?? []).includes(`dist/services/${service.name}/src/migrate.js`)),
    );
    if (!job) {
      v.push(`no migration Job runs dist/services/${service.name}/src/migrate.js`);
      continue;
    }
    const secrets = secretNamesUsed(job.spec!.template.spec!);
    if (!secrets.includes(`${service.name}-migrator-db`))
      v.push(`Job/${job.metadata?.name}: must read MIGRATION_DATABASE_URL from Secret ${service.name}-migrator-db`);
  }
  const bootstrap = jobs.find((j) => labelsOf(j)['app.kubernetes.io/component'] === 'db-bootstrap');
  if (!bootstrap) v.push('no db-bootstrap Job');
  else {
    const c = bootstrap.spec!.template.spec!.containers[0];
    const schemas = (envValue(c, 'SCHEMAS') ?? '').split(',').sort();
    const expected = ctx.services.map((s) => s.schema).sort();
    if (schemas.join() !== expected.join())
      v.push(`Job/${bootstrap.metadata?.name}: SCHEMAS ${schemas.join()} must list every service schema (${expected.join()})`);
    const script = c.command?.[0] === 'node' && c.command[1] === '-e' ? c.args?.[0] : undefined;
    if (!script) v.push(`Job/${bootstrap.metadata?.name}: expected node -e <script>`);
    else {
      try {
        new Script(script, { filename: 'db-bootstrap.js' });
      } catch (error) {
        v.push(`Job/${bootstrap.metadata?.name}: script does not parse: ${(error as Error).message}`);
      }
    }
  }
}

function checkTopics(r: OverlayRender, ctx: PolicyContext, v: string[]): void {
  const topics = ofKind<KafkaTopic>(r.topics, 'KafkaTopic') as KafkaTopic[];
  const names = new Set(topics.map((t) => t.spec.topicName ?? t.metadata.name));
  for (const required of ctx.requiredTopics) if (!names.has(required)) v.push(`KafkaTopic for ${required} is missing`);
  for (const t of topics) {
    const id = `KafkaTopic/${t.metadata.name}`;
    if (!t.metadata.namespace) v.push(`${id}: needs the Kafka cluster's namespace`);
    if (!t.spec.topicName) v.push(`${id}: spec.topicName must be explicit (name transformers must not rename topics)`);
    const minIsr = Number(t.spec.config?.['min.insync.replicas'] ?? 1);
    if (r.env !== 'dev' && (t.spec.replicas < 3 || minIsr < 2))
      v.push(`${id}: ${r.env} needs replicas >= 3 and min.insync.replicas >= 2 (acks=all)`);
    if (minIsr > t.spec.replicas) v.push(`${id}: min.insync.replicas ${minIsr} exceeds replicas ${t.spec.replicas}`);
    const registryPartitions = ctx.partitions.get(t.spec.topicName ?? t.metadata.name);
    if (registryPartitions !== undefined && registryPartitions !== t.spec.partitions)
      v.push(`${id}: ${t.spec.partitions} partitions, libs/contracts says ${registryPartitions}`);
  }
}

function checkSecrets(r: OverlayRender, ctx: PolicyContext, v: string[]): void {
  const all = [...r.app, ...r.jobs, ...r.topics];
  for (const o of all)
    if (o.kind === 'Secret')
      v.push(`Secret/${o.metadata.name}: no Secret objects in git; use an ExternalSecret or a documented Secret name`);
  for (const cm of ofKind<IConfigMap>(all, 'ConfigMap')) {
    for (const [key, value] of Object.entries(cm.data ?? {})) {
      if (SECRETISH.test(key)) v.push(`ConfigMap/${cm.metadata?.name}: key ${key} looks like a secret`);
      if (CREDENTIALS_IN_URL.test(value)) v.push(`ConfigMap/${cm.metadata?.name}: ${key} embeds credentials in a URL`);
    }
  }
  const produced = new Set((ofKind<ExternalSecret>(r.app, 'ExternalSecret') as ExternalSecret[]).map((e) => e.spec.target.name));
  const pods: [string, IPodSpec | undefined][] = [
    ...ofKind<IDeployment>(r.app, 'Deployment').map((d): [string, IPodSpec | undefined] => [
      `Deployment/${d.metadata?.name}`,
      d.spec?.template.spec,
    ]),
    ...ofKind<IJob>(r.jobs, 'Job').map((j): [string, IPodSpec | undefined] => [`Job/${j.metadata?.name}`, j.spec?.template.spec]),
  ];
  const configMaps = new Set(ofKind<IConfigMap>([...r.app, ...r.jobs], 'ConfigMap').map((c) => c.metadata?.name));
  for (const [id, pod] of pods) {
    if (!pod) continue;
    for (const name of secretNamesUsed(pod)) {
      if (r.env === 'dev') {
        if (!produced.has(name) && !ctx.documentedSecrets.has(name))
          v.push(`${id}: Secret ${name} is neither synced by an ExternalSecret nor documented in docs/operations.md`);
      } else if (!produced.has(name)) v.push(`${id}: Secret ${name} is not synced by an ExternalSecret in this overlay`);
    }
    for (const name of configMapNamesUsed(pod)) if (!configMaps.has(name)) v.push(`${id}: ConfigMap ${name} is not in the overlay`);
  }
  for (const name of produced)
    if (!ctx.documentedSecrets.has(name)) v.push(`ExternalSecret target ${name} is not documented in docs/operations.md`);
}

/**
 * A Deployment that runs service `s` (its own, or one of its workers): its main.js on its port,
 * the standard probes, its config and database Secret, and a PodDisruptionBudget.
 */
function checkRunsService(d: K8sObject & IDeployment, s: PlatformService, pdbs: (K8sObject & IPodDisruptionBudget)[], v: string[]): void {
  const id = `Deployment/${d.metadata?.name}`;
  const c = d.spec!.template.spec!.containers[0];
  if (!(c.args ?? []).includes(`dist/services/${s.name}/src/main.js`)) v.push(`${id}: must run dist/services/${s.name}/src/main.js`);
  if (containerPort(c, 'http') !== s.port) v.push(`${id}: container port http must be ${s.port} (tools/stack-services.ts)`);
  if (envValue(c, 'PORT') !== String(s.port)) v.push(`${id}: PORT must be ${s.port}`);
  if (c.readinessProbe?.httpGet?.path !== '/health/ready') v.push(`${id}: readinessProbe must GET /health/ready`);
  if (c.livenessProbe?.httpGet?.path !== '/health/live') v.push(`${id}: livenessProbe must GET /health/live (never Kafka or Postgres)`);
  if (!c.envFrom?.some((f) => f.configMapRef)) v.push(`${id}: envFrom needs the wa-platform ConfigMap`);
  if (!c.envFrom?.some((f) => f.secretRef?.name === `${s.name}-db`)) v.push(`${id}: envFrom needs Secret ${s.name}-db (DATABASE_URL)`);
  const pdb = pdbs.find((p) => selects(p.spec?.selector as Selector, labelsOf(d.spec?.template)));
  if (!pdb) v.push(`${id}: no PodDisruptionBudget`);
  else if (pdb.spec?.maxUnavailable !== 1) v.push(`PodDisruptionBudget/${pdb.metadata?.name}: maxUnavailable must be 1`);
}

/** Every violation of the deployment rules in one environment's renders. */
export function checkOverlay(r: OverlayRender, ctx: PolicyContext): string[] {
  const v: string[] = [];
  const deployments = ofKind<IDeployment>(r.app, 'Deployment');
  const services = ofKind<IService>(r.app, 'Service');
  const pdbs = ofKind<IPodDisruptionBudget>(r.app, 'PodDisruptionBudget');
  const serviceAccounts = r.app.filter((o) => o.kind === 'ServiceAccount');
  const platformDeployment = deployments.find((d) => d.metadata?.name === ctx.services[0]?.name);
  const platformImage = platformDeployment?.spec?.template.spec?.containers[0].image;
  const version = platformImage ? imageTag(platformImage).tag : undefined;

  for (const o of r.app) if (o.kind !== 'Namespace' && !o.metadata.namespace) v.push(`${o.kind}/${o.metadata.name}: no namespace`);

  for (const d of deployments) {
    const name = d.metadata?.name ?? '';
    const id = `Deployment/${name}`;
    const pod = d.spec?.template.spec;
    checkPod(id, pod, v);
    for (const [where, labels] of [
      ['metadata', labelsOf(d)],
      ['pod template', labelsOf(d.spec?.template)],
    ] as const) {
      for (const key of ['name', 'part-of', 'component', 'version'])
        if (!labels[`app.kubernetes.io/${key}`]) v.push(`${id}: ${where} label app.kubernetes.io/${key} is missing`);
      if (version && labels['app.kubernetes.io/version'] !== version)
        v.push(`${id}: ${where} label app.kubernetes.io/version must equal the image tag ${version}`);
    }
    if (d.spec?.selector.matchLabels?.['app.kubernetes.io/version'])
      v.push(`${id}: the version label must not be in the (immutable) selector`);
    if (!selects(d.spec?.selector as Selector, labelsOf(d.spec?.template))) v.push(`${id}: selector does not match its pod template`);
    if (!pod) continue;
    const sa = serviceAccounts.find((s) => s.metadata.name === pod.serviceAccountName);
    if (!pod.serviceAccountName || !sa) v.push(`${id}: needs its own ServiceAccount in the overlay`);
    else if ((sa as { automountServiceAccountToken?: boolean }).automountServiceAccountToken !== false)
      v.push(`ServiceAccount/${sa.metadata.name}: automountServiceAccountToken must be false`);
    const c = pod.containers[0];
    for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
      const probe = c[kind];
      if (!probe?.httpGet) v.push(`${id}: ${kind} (httpGet) is required`);
      else if (containerPort(c, probe.httpGet.port) === undefined)
        v.push(`${id}: ${kind} port ${probe.httpGet.port} is not a container port`);
    }
    const sleep = preStopSleepSeconds(c);
    if (sleep === 0) v.push(`${id}: a preStop sleep is required (endpoints must drop the pod before it stops serving)`);
    const drainMs = Number(envValue(c, 'SHUTDOWN_TIMEOUT_MS') ?? (ctx.services.some((s) => s.name === name) ? 20000 : 0));
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    if (grace * 1000 <= sleep * 1000 + drainMs)
      v.push(`${id}: terminationGracePeriodSeconds ${grace} must exceed preStop ${sleep}s + SHUTDOWN_TIMEOUT_MS ${drainMs}ms`);
    const tenants = pod.volumes?.find((vol) => vol.configMap?.name?.startsWith('wa-tenants'));
    const tenantsMount = c.volumeMounts?.find((m) => m.name === tenants?.name);
    const tenantsFile = envValue(c, 'TENANTS_FILE');
    if (!tenants || !tenantsMount || !tenantsFile || dirname(tenantsFile) !== tenantsMount.mountPath)
      v.push(`${id}: TENANTS_FILE must point into the mounted wa-tenants ConfigMap`);
  }

  const byName = new Map(deployments.map((d) => [d.metadata?.name, d]));
  for (const s of ctx.services) {
    const d = byName.get(s.name);
    if (!d) {
      v.push(`Deployment/${s.name} (tools/stack-services.ts) is missing`);
      continue;
    }
    checkRunsService(d, s, pdbs, v);
    const c = d.spec!.template.spec!.containers[0];
    const podLabels = labelsOf(d.spec?.template);
    const spread = d.spec?.template.spec?.topologySpreadConstraints?.find((t) => t.topologyKey === 'kubernetes.io/hostname');
    if (spread?.whenUnsatisfiable !== 'DoNotSchedule' || !selects(spread.labelSelector as Selector, podLabels))
      v.push(`Deployment/${s.name}: needs a kubernetes.io/hostname spread with whenUnsatisfiable DoNotSchedule over its own pods`);
    const svc = services.find((x) => x.metadata?.name === s.name);
    if (!svc) v.push(`Service/${s.name} is missing`);
    else {
      if (!selects({ matchLabels: svc.spec?.selector }, podLabels)) v.push(`Service/${s.name}: selector does not match the pods`);
      for (const p of svc.spec?.ports ?? [])
        if (containerPort(c, p.targetPort as string | number) !== s.port)
          v.push(`Service/${s.name}: targetPort ${p.targetPort} is not port ${s.port}`);
    }
  }

  for (const w of ctx.workers) {
    const s = ctx.services.find((x) => x.name === w.service);
    const d = byName.get(w.name);
    const id = `Deployment/${w.name}`;
    if (!s) continue;
    if (!d) {
      v.push(`${id} (worker of ${w.service}, tools/stack-services.ts) is missing`);
      continue;
    }
    checkRunsService(d, s, pdbs, v);
    const c = d.spec!.template.spec!.containers[0];
    if (envValue(c, w.receiverEnv.name) === w.receiverEnv.value)
      v.push(`${id}: ${w.receiverEnv.name}=${w.receiverEnv.value} turns its consumers off`);
    const receiver = byName.get(s.name)?.spec?.template.spec?.containers[0];
    if (receiver && envValue(receiver, w.receiverEnv.name) !== w.receiverEnv.value)
      v.push(`Deployment/${s.name}: must set ${w.receiverEnv.name}=${w.receiverEnv.value} (its consumers run in ${w.name})`);
    const podLabels = labelsOf(d.spec?.template);
    for (const svc of services)
      if (Object.keys(svc.spec?.selector ?? {}).length && selects({ matchLabels: svc.spec?.selector }, podLabels))
        v.push(`Service/${svc.metadata?.name}: selects the pods of worker ${w.name}`);
  }

  checkNetwork(r.app, deployments, ctx, v);
  checkIngress(r.app, ctx, v);
  checkScaling(r.app, deployments, ctx, v);
  checkTenants(r, deployments, ctx, v);
  checkJobs(r, ctx, platformImage, version, v);
  checkTopics(r, ctx, v);
  checkSecrets(r, ctx, v);
  if (r.env !== 'dev') {
    for (const d of deployments)
      for (const c of d.spec?.template.spec?.containers ?? [])
        if (/-tools[:@]/.test(c.image ?? '')) v.push(`Deployment/${d.metadata?.name}: the dev-only tools image must not run in ${r.env}`);
  }
  return v;
}

interface PlatformKafka extends K8sObject {
  metadata: K8sObject['metadata'] & { annotations?: Record<string, string> };
  spec: { kafka: { rack?: { topologyKey: string }; config?: Record<string, string | number | boolean> }; kafkaExporter?: object };
}
interface NodePool extends K8sObject {
  spec: {
    replicas: number;
    roles: string[];
    template?: { pod?: { topologySpreadConstraints?: { topologyKey: string; whenUnsatisfiable: string }[] } };
  };
}
interface PgCluster extends K8sObject {
  spec: {
    instances: number;
    minSyncReplicas?: number;
    bootstrap?: { initdb?: { database?: string } };
    affinity?: { topologyKey?: string; podAntiAffinityType?: string };
    backup?: { retentionPolicy?: string; barmanObjectStore?: { destinationPath: string } };
  };
}

/**
 * deploy/overlays/platform: the Kafka and PostgreSQL the environments' manifests expect (cluster
 * wa-kafka in namespace kafka with broker-side lag metrics; PostgreSQL in namespace postgres with
 * the platform database), spread over three zones and backed up.
 */
export function checkPlatform(objects: K8sObject[]): string[] {
  const v: string[] = [];
  const k = objects.find((o) => o.kind === 'Kafka') as PlatformKafka | undefined;
  if (!k) v.push('no Kafka');
  else {
    if (k.metadata.name !== 'wa-kafka' || k.metadata.namespace !== 'kafka')
      v.push(`Kafka ${k.metadata.namespace}/${k.metadata.name}: must be kafka/wa-kafka (platform-egress and the KEDA triggers name it)`);
    if (k.metadata.annotations?.['strimzi.io/node-pools'] !== 'enabled' || k.metadata.annotations?.['strimzi.io/kraft'] !== 'enabled')
      v.push('Kafka: needs the strimzi.io/node-pools and strimzi.io/kraft annotations');
    if (k.spec.kafka.rack?.topologyKey !== 'topology.kubernetes.io/zone')
      v.push('Kafka: rack awareness must use topology.kubernetes.io/zone');
    if (!k.spec.kafkaExporter) v.push('Kafka: needs the Kafka Exporter (broker-side consumer lag for KEDA and alerts)');
    const config = k.spec.kafka.config ?? {};
    if (Number(config['default.replication.factor']) < 3 || Number(config['min.insync.replicas']) < 2)
      v.push('Kafka: default.replication.factor >= 3 and min.insync.replicas >= 2');
  }
  const pools = objects.filter((o) => o.kind === 'KafkaNodePool' && o.metadata.labels?.['strimzi.io/cluster'] === 'wa-kafka') as NodePool[];
  const brokers = pools.filter((p) => p.spec.roles.includes('broker')).reduce((n, p) => n + p.spec.replicas, 0);
  if (brokers < 3) v.push(`KafkaNodePool: ${brokers} brokers; three are needed (one per zone)`);
  for (const p of pools) {
    const zone = p.spec.template?.pod?.topologySpreadConstraints?.find((t) => t.topologyKey === 'topology.kubernetes.io/zone');
    if (zone?.whenUnsatisfiable !== 'DoNotSchedule') v.push(`KafkaNodePool/${p.metadata.name}: must spread across zones (DoNotSchedule)`);
  }
  const pg = objects.find((o) => o.kind === 'Cluster' && o.apiVersion.startsWith('postgresql.cnpg.io')) as PgCluster | undefined;
  if (!pg) v.push('no CloudNativePG Cluster');
  else {
    if (pg.metadata.namespace !== 'postgres') v.push('Cluster: must be in namespace postgres (platform-egress)');
    if (pg.spec.instances < 3) v.push(`Cluster/${pg.metadata.name}: ${pg.spec.instances} instances; three are needed (one per zone)`);
    if ((pg.spec.minSyncReplicas ?? 0) < 1) v.push(`Cluster/${pg.metadata.name}: needs a synchronous standby (RPO 0 on losing a zone)`);
    if (pg.spec.bootstrap?.initdb?.database !== 'wa_platform') v.push(`Cluster/${pg.metadata.name}: must create database wa_platform`);
    if (pg.spec.affinity?.topologyKey !== 'topology.kubernetes.io/zone' || pg.spec.affinity?.podAntiAffinityType !== 'required')
      v.push(`Cluster/${pg.metadata.name}: instances must be in different zones (required anti-affinity)`);
    if (!pg.spec.backup?.barmanObjectStore || !pg.spec.backup.retentionPolicy)
      v.push(`Cluster/${pg.metadata.name}: needs WAL archiving and base backups to an object store with a retention policy`);
    const scheduled = objects.filter(
      (o) => o.kind === 'ScheduledBackup' && (o.spec as { cluster?: { name?: string } })?.cluster?.name === pg.metadata.name,
    );
    if (!scheduled.length) v.push(`Cluster/${pg.metadata.name}: no ScheduledBackup`);
  }
  return v;
}

const wave = (o: K8sObject) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);

/**
 * Argo CD release order (deploy/argocd/<env>): the DB bootstrap Job after everything Jobs need
 * (namespace, Secrets, ConfigMaps, policies, service accounts), each migration Job after the
 * bootstrap, and every Deployment after every migration: new code never serves or consumes before
 * its schema is migrated.
 */
export function checkWaves(objects: K8sObject[]): string[] {
  const v: string[] = [];
  const jobs = objects.filter((o) => o.kind === 'Job');
  const bootstrap = jobs.filter((j) => j.metadata.labels?.['app.kubernetes.io/component'] === 'db-bootstrap');
  const migrations = jobs.filter((j) => j.metadata.labels?.['app.kubernetes.io/component'] === 'migration');
  if (!bootstrap.length || !migrations.length) v.push('the Argo CD render has no bootstrap or no migration Jobs');
  const prerequisites = objects.filter((o) =>
    ['Namespace', 'ExternalSecret', 'ConfigMap', 'NetworkPolicy', 'ServiceAccount'].includes(o.kind),
  );
  const firstJob = Math.min(...jobs.map(wave));
  for (const o of prerequisites)
    if (wave(o) >= firstJob) v.push(`${o.kind}/${o.metadata.name}: wave ${wave(o)} is not before the Jobs (${firstJob})`);
  for (const m of migrations)
    for (const b of bootstrap)
      if (wave(m) <= wave(b)) v.push(`Job/${m.metadata.name}: wave ${wave(m)} is not after the bootstrap (${wave(b)})`);
  const lastMigration = Math.max(...migrations.map(wave));
  for (const d of objects.filter((o) => ['Deployment', 'ScaledObject', 'HorizontalPodAutoscaler', 'Service', 'Ingress'].includes(o.kind)))
    if (wave(d) <= lastMigration) v.push(`${d.kind}/${d.metadata.name}: wave ${wave(d)} is not after the migrations (${lastMigration})`);
  return v;
}
