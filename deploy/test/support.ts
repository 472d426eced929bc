// Rendering and validation helpers for the manifest tests: kubectl's built-in kustomize renders,
// kubernetes-models validates core kinds, and small hand-written schemas cover the CRDs we use.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const ENVS = ['dev', 'staging', 'prod'] as const;
export type Env = (typeof ENVS)[number];

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface OverlayRender {
  env: Env;
  /** deploy/overlays/<env>: the long-lived objects. */
  app: K8sObject[];
  /** deploy/overlays/<env>/jobs: this release's DB bootstrap and migration Jobs. */
  jobs: K8sObject[];
  /** deploy/overlays/<env>/topics: Strimzi KafkaTopics. */
  topics: K8sObject[];
}

/** Why the render step cannot run here, or undefined when kubectl (with kustomize) is usable. */
export function kubectlMissing(): string | undefined {
  const probe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (probe.error) return `kubectl is not installed (${probe.error.message})`;
  if (probe.status !== 0) return `kubectl version --client failed: ${probe.stderr.trim()}`;
  if (!/Kustomize Version/.test(probe.stdout)) return 'this kubectl has no built-in kustomize';
  return undefined;
}

const run = promisify(execFile);

export function parseDocuments(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

export async function kustomize(dir: string): Promise<K8sObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', join(ROOT, dir)], { maxBuffer: 64 * 1024 * 1024 });
  return parseDocuments(stdout, dir);
}

export async function renderOverlay(env: Env): Promise<OverlayRender> {
  const [app, jobs, topics] = await Promise.all([
    kustomize(`deploy/overlays/${env}`),
    kustomize(`deploy/overlays/${env}/jobs`),
    kustomize(`deploy/overlays/${env}/topics`),
  ]);
  return { env, app, jobs, topics };
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

export function readRepoFile(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Validation. Core kinds: kubernetes-models (JSON schema per kind). CRDs: the fields we rely on.

type Check = (value: unknown) => string | undefined;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty string');
const int =
  (min: number): Check =>
  (v) =>
    Number.isInteger(v) && (v as number) >= min ? undefined : `must be an integer >= ${min}`;
const intString: Check = (v) =>
  typeof v === 'string' && /^\d+$/.test(v) ? undefined : 'must be a string of digits (KEDA metadata values are strings)';
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    values.includes(v as string) ? undefined : `must be one of ${values.join(', ')}`;

interface Shape {
  required?: Record<string, Check | Shape>;
  optional?: Record<string, Check | Shape>;
  /** Reject fields not listed (catches typos such as `lagTreshold`). */
  closed?: boolean;
}

function checkShape(value: unknown, shape: Shape, path: string, errors: string[]): void {
  if (!isObject(value)) {
    errors.push(`${path} must be an object`);
    return;
  }
  const fields = { ...shape.required, ...shape.optional };
  for (const [key, rule] of Object.entries(fields)) {
    const present = value[key] !== undefined;
    if (!present) {
      if (shape.required && key in shape.required) errors.push(`${path}.${key} is required`);
      continue;
    }
    if (typeof rule === 'function') {
      const problem = rule(value[key]);
      if (problem) errors.push(`${path}.${key} ${problem}`);
    } else {
      checkShape(value[key], rule, `${path}.${key}`, errors);
    }
  }
  if (shape.closed) {
    for (const key of Object.keys(value)) if (!(key in fields)) errors.push(`${path}.${key} is not a known field`);
  }
}

const each =
  (shape: Shape): Check =>
  (v) => {
    if (!Array.isArray(v) || v.length === 0) return 'must be a non-empty array';
    const errors: string[] = [];
    v.forEach((item, i) => checkShape(item, shape, `[${i}]`, errors));
    return errors.length ? errors.join('; ') : undefined;
  };

const kafkaTriggerMetadata: Shape = {
  required: { bootstrapServers: str, consumerGroup: str, topic: str, lagThreshold: intString },
  optional: {
    activationLagThreshold: intString,
    offsetResetPolicy: oneOf('earliest', 'latest'),
    allowIdleConsumers: oneOf('true', 'false'),
    excludePersistentLag: oneOf('true', 'false'),
    limitToPartitionsWithLag: oneOf('true', 'false'),
    scaleToZeroOnInvalidOffset: oneOf('true', 'false'),
    version: str,
  },
  closed: true,
};

/** keda.sh/v1alpha1 ScaledObject, with kafka triggers only (the only scaler we use). */
const scaledObject: Shape = {
  required: {
    spec: {
      required: {
        scaleTargetRef: { required: { name: str }, optional: { apiVersion: str, kind: str }, closed: true },
        minReplicaCount: int(0),
        maxReplicaCount: int(1),
        triggers: each({
          required: { type: oneOf('kafka'), metadata: kafkaTriggerMetadata },
          optional: { name: str, authenticationRef: { required: { name: str } } },
          closed: true,
        }),
      },
      optional: {
        pollingInterval: int(1),
        cooldownPeriod: int(0),
        initialCooldownPeriod: int(0),
        idleReplicaCount: int(0),
        fallback: { required: { failureThreshold: int(1), replicas: int(1) }, optional: { behavior: str }, closed: true },
        advanced: {
          optional: {
            horizontalPodAutoscalerConfig: { optional: { behavior: (v) => (isObject(v) ? undefined : 'must be an object'), name: str } },
            restoreToOriginalReplicaCount: (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean'),
          },
        },
      },
      closed: true,
    },
  },
};

const configValue: Check = (v) =>
  isObject(v) && Object.values(v).every((x) => ['string', 'number', 'boolean'].includes(typeof x))
    ? undefined
    : 'must map names to strings, numbers or booleans';

/** kafka.strimzi.io/v1beta2 (and v1) KafkaTopic. */
const kafkaTopic: Shape = {
  required: {
    metadata: { required: { name: str, labels: { required: { 'strimzi.io/cluster': str } } } },
    spec: { required: { partitions: int(1), replicas: int(1) }, optional: { topicName: str, config: configValue }, closed: true },
  },
};

const remoteRef: Shape = {
  required: { key: str },
  optional: { property: str, version: str, conversionStrategy: str, decodingStrategy: str, metadataPolicy: str },
  closed: true,
};

/** external-secrets.io/v1 ExternalSecret. */
const externalSecret: Shape = {
  required: {
    spec: {
      required: {
        secretStoreRef: { required: { name: str, kind: oneOf('SecretStore', 'ClusterSecretStore') }, closed: true },
        target: {
          required: { name: str },
          optional: {
            creationPolicy: oneOf('Owner', 'Orphan', 'Merge', 'None'),
            deletionPolicy: oneOf('Retain', 'Delete', 'Merge'),
            immutable: (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean'),
            template: {
              optional: {
                engineVersion: oneOf('v2'),
                type: str,
                data: configValue,
                metadata: (v) => (isObject(v) ? undefined : 'must be an object'),
              },
            },
          },
          closed: true,
        },
      },
      optional: {
        refreshInterval: (v) => (typeof v === 'string' && /^\d+(ms|s|m|h)$/.test(v) ? undefined : 'must be a duration such as 1h'),
        data: each({ required: { secretKey: str, remoteRef }, closed: true }),
        dataFrom: each({ optional: { extract: remoteRef, find: (v) => (isObject(v) ? undefined : 'must be an object') }, closed: true }),
      },
      closed: true,
    },
  },
};

const labelMap: Check = (v) =>
  isObject(v) && Object.values(v).every((x) => typeof x === 'string') ? undefined : 'must map names to strings';
const duration: Check = (v) => (typeof v === 'string' && /^(\d+(ms|s|m|h|d|w|y))+$/.test(v) ? undefined : 'must be a duration such as 5m');
const selector: Shape = {
  optional: {
    matchLabels: labelMap,
    matchExpressions: each({
      required: { key: str, operator: oneOf('In', 'NotIn', 'Exists', 'DoesNotExist') },
      optional: { values: (v) => (Array.isArray(v) ? undefined : 'must be an array') },
      closed: true,
    }),
  },
  closed: true,
};

/** monitoring.coreos.com/v1 PodMonitor (Prometheus Operator). */
const podMonitor: Shape = {
  required: {
    spec: {
      required: {
        selector,
        podMetricsEndpoints: each({
          required: { port: str },
          optional: {
            path: str,
            interval: duration,
            scrapeTimeout: duration,
            scheme: oneOf('http', 'https'),
            relabelings: (v) => (Array.isArray(v) ? undefined : 'must be an array'),
            metricRelabelings: (v) => (Array.isArray(v) ? undefined : 'must be an array'),
            honorLabels: (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean'),
          },
          closed: true,
        }),
      },
      optional: {
        namespaceSelector: (v) => (isObject(v) ? undefined : 'must be an object'),
        jobLabel: str,
        podTargetLabels: (v) => (Array.isArray(v) ? undefined : 'must be an array'),
      },
      closed: true,
    },
  },
};

/** monitoring.coreos.com/v1 PrometheusRule: groups of alerting and recording rules. */
const prometheusRule: Shape = {
  required: {
    spec: {
      required: {
        groups: each({
          required: {
            name: str,
            rules: (v) => {
              if (!Array.isArray(v) || !v.length) return 'must be a non-empty array';
              const errors: string[] = [];
              v.forEach((rule, i) => {
                const kind = isObject(rule) && rule.alert ? 'alert' : 'record';
                checkShape(
                  rule,
                  kind === 'alert'
                    ? {
                        required: { alert: str, expr: str },
                        optional: { for: duration, keep_firing_for: duration, labels: labelMap, annotations: labelMap },
                        closed: true,
                      }
                    : { required: { record: str, expr: str }, optional: { labels: labelMap }, closed: true },
                  `[${i}]`,
                  errors,
                );
              });
              return errors.length ? errors.join('; ') : undefined;
            },
          },
          optional: { interval: duration, limit: int(0) },
          closed: true,
        }),
      },
      closed: true,
    },
  },
};

const anyObject: Check = (v) => (isObject(v) ? undefined : 'must be an object');
const anyArray: Check = (v) => (Array.isArray(v) ? undefined : 'must be an array');

/** kafka.strimzi.io/v1beta2 Kafka (KRaft with node pools): the fields we set. */
const kafka: Shape = {
  required: {
    spec: {
      required: {
        kafka: {
          required: {
            version: str,
            listeners: each({
              required: { name: str, port: int(1), type: str, tls: (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean') },
              optional: { networkPolicyPeers: anyArray, authentication: anyObject, configuration: anyObject },
              closed: true,
            }),
          },
          optional: {
            metadataVersion: str,
            rack: { required: { topologyKey: str }, closed: true },
            config: configValue,
            authorization: anyObject,
            metricsConfig: anyObject,
            template: anyObject,
          },
          closed: true,
        },
      },
      optional: {
        entityOperator: anyObject,
        kafkaExporter: {
          optional: {
            topicRegex: str,
            groupRegex: str,
            showAllOffsets: (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean'),
            resources: anyObject,
            template: anyObject,
          },
          closed: true,
        },
        cruiseControl: anyObject,
      },
      closed: true,
    },
  },
};

/** kafka.strimzi.io/v1beta2 KafkaNodePool. */
const kafkaNodePool: Shape = {
  required: {
    metadata: { required: { name: str, labels: { required: { 'strimzi.io/cluster': str } } } },
    spec: {
      required: {
        replicas: int(1),
        roles: (v) =>
          Array.isArray(v) && v.every((r) => r === 'broker' || r === 'controller') && v.length
            ? undefined
            : 'must list broker and/or controller',
        storage: anyObject,
      },
      optional: { resources: anyObject, jvmOptions: anyObject, template: anyObject },
      closed: true,
    },
  },
};

/** postgresql.cnpg.io/v1 Cluster (CloudNativePG): the fields we set. */
const cnpgCluster: Shape = {
  required: {
    spec: {
      required: { instances: int(1), storage: { required: { size: str }, optional: { storageClass: str }, closed: true } },
      optional: {
        imageName: str,
        primaryUpdateStrategy: oneOf('unsupervised', 'supervised'),
        minSyncReplicas: int(0),
        maxSyncReplicas: int(0),
        postgresql: anyObject,
        bootstrap: anyObject,
        walStorage: { required: { size: str }, optional: { storageClass: str }, closed: true },
        affinity: anyObject,
        monitoring: anyObject,
        resources: anyObject,
        backup: {
          required: {
            barmanObjectStore: {
              required: { destinationPath: str },
              optional: {
                s3Credentials: anyObject,
                azureCredentials: anyObject,
                googleCredentials: anyObject,
                endpointURL: str,
                wal: anyObject,
                data: anyObject,
              },
              closed: true,
            },
          },
          optional: { retentionPolicy: (v) => (typeof v === 'string' && /^\d+[dwm]$/.test(v) ? undefined : 'must be like 30d') },
          closed: true,
        },
      },
      closed: true,
    },
  },
};

/** postgresql.cnpg.io/v1 ScheduledBackup (six-field cron: seconds first). */
const scheduledBackup: Shape = {
  required: {
    spec: {
      required: {
        schedule: (v) =>
          typeof v === 'string' && v.trim().split(/\s+/).length === 6 ? undefined : 'must be a six-field cron (seconds first)',
        cluster: { required: { name: str }, closed: true },
      },
      optional: {
        backupOwnerReference: oneOf('none', 'self', 'cluster'),
        method: oneOf('barmanObjectStore', 'volumeSnapshot', 'plugin'),
        immediate: (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean'),
        suspend: (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean'),
      },
      closed: true,
    },
  },
};

const CRD_SHAPES: Record<string, Shape> = {
  'kafka.strimzi.io/v1beta2/Kafka': kafka,
  'kafka.strimzi.io/v1beta2/KafkaNodePool': kafkaNodePool,
  'postgresql.cnpg.io/v1/Cluster': cnpgCluster,
  'postgresql.cnpg.io/v1/ScheduledBackup': scheduledBackup,
  'monitoring.coreos.com/v1/PodMonitor': podMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': prometheusRule,
  'keda.sh/v1alpha1/ScaledObject': scaledObject,
  'kafka.strimzi.io/v1beta2/KafkaTopic': kafkaTopic,
  'kafka.strimzi.io/v1/KafkaTopic': kafkaTopic,
  'external-secrets.io/v1/ExternalSecret': externalSecret,
};

/** Problems with one object against its kind's schema; an unknown kind is itself a problem. */
export function validateObject(obj: K8sObject): string[] {
  const id = `${obj.kind}/${obj.metadata?.name}`;
  const shape = CRD_SHAPES[`${obj.apiVersion}/${obj.kind}`];
  if (shape) {
    const errors: string[] = [];
    checkShape(obj, shape, id, errors);
    if (obj.apiVersion === 'external-secrets.io/v1') {
      const spec = obj.spec as { data?: unknown[]; dataFrom?: unknown[] };
      if (!spec?.data && !spec?.dataFrom) errors.push(`${id}: spec.data or spec.dataFrom is required`);
    }
    return errors;
  }
  let models: Record<string, new (data: unknown) => { validate(): void }>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    models = require(`kubernetes-models/${obj.apiVersion}`);
  } catch {
    return [`${id}: no validator for ${obj.apiVersion} (add a schema in deploy/test/support.ts)`];
  }
  const Model = models[obj.kind];
  if (!Model) return [`${id}: no validator for ${obj.apiVersion} ${obj.kind}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (error) {
    return [`${id}: ${(error as Error).message}`];
  }
}
