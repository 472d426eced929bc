// Renders Strimzi KafkaTopic resources for every topic the platform uses into
// deploy/base/kafka-topics/topics.yaml, from the code that defines them: the contracts registry
// (libs/contracts) and the retry/DLQ topics every consumer group's ConsumerHost (libs/kafka)
// creates. deploy/test/manifests.spec.ts fails when the committed file is out of date.
// Usage: node -r ./tools/ts-register.cjs tools/render-topics.ts [--write | --check]
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { ALL_TOPICS } from '@wa/contracts';
import { ConsumerHost, type EventProducer, type Kafka, type TopicDeclaration } from '@wa/kafka';
import { STACK_SERVICES } from './stack-services';

const ROOT = join(__dirname, '..');
export const TOPICS_FILE = join(ROOT, 'deploy', 'base', 'kafka-topics', 'topics.yaml');

/** Cluster defaults; the dev overlay patches replicas and min.insync.replicas down to 1. */
const REPLICAS = 3;
const MIN_INSYNC_REPLICAS = 2;
const STRIMZI_CLUSTER = 'wa-kafka';

interface RenderedTopic extends TopicDeclaration {
  description: string;
  key?: string;
}

/**
 * Asks the real ConsumerHost which topics it creates for a consumer group by starting it against a
 * recording stand-in for the broker, so partitions and retention of `<group>.retry` / `<group>.dlq`
 * are read from libs/kafka instead of being copied here.
 */
export async function derivedTopics(groupId: string): Promise<TopicDeclaration[]> {
  const created: TopicDeclaration[] = [];
  const noop = async (): Promise<void> => undefined;
  // Answers any client method with an empty success; `then` stays undefined so a stand-in is never
  // mistaken for a promise. The admin records topic creation and reports every topic as led.
  const standIn = <T extends object>(overrides: T): T =>
    new Proxy(overrides, { get: (target, property) => (property === 'then' ? undefined : ((target as Record<PropertyKey, unknown>)[property] ?? noop)) });
  const admin = standIn({
    listTopics: async () => [],
    createTopics: async ({ topics }: { topics: { topic: string; numPartitions: number; configEntries: { name: string; value: string }[] }[] }) => {
      for (const t of topics) {
        const config = Object.fromEntries(t.configEntries.map((e) => [e.name, e.value]));
        created.push({
          name: t.topic,
          partitions: t.numPartitions,
          cleanupPolicy: config['cleanup.policy'] as TopicDeclaration['cleanupPolicy'],
          retentionMs: Number(config['retention.ms']),
        });
      }
      return true;
    },
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
      topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0, leader: 0, replicas: [0], isr: [0] }] })),
    }),
  });
  const consumer = standIn({});
  const kafka = { admin: () => admin, consumer: () => consumer } as unknown as Kafka;
  const producer = { connect: noop } as unknown as EventProducer;
  const host = new ConsumerHost(kafka, { brokers: ['render-topics:9092'], clientId: 'render-topics', topicPrefix: '' }, producer, { groupId });
  host.register(ALL_TOPICS[0], noop);
  // A change in libs/kafka that waits on something the stand-in never answers must fail, not hang.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`ConsumerHost.start() for ${groupId} did not finish against the stand-in broker`)), 5000);
  });
  try {
    await Promise.race([host.start(), timeout]);
  } finally {
    clearTimeout(timer);
  }
  await host.stop();
  if (created.length === 0) throw new Error(`ConsumerHost created no topics for ${groupId}; has libs/kafka changed how it declares them?`);
  return created;
}

function kafkaTopic(topic: RenderedTopic): Record<string, unknown> {
  const annotations: Record<string, string> = { 'wa-gov-platform/description': topic.description };
  if (topic.key) annotations['wa-gov-platform/partition-key'] = topic.key;
  return {
    apiVersion: 'kafka.strimzi.io/v1beta2',
    kind: 'KafkaTopic',
    metadata: {
      name: topic.name,
      labels: {
        'strimzi.io/cluster': STRIMZI_CLUSTER,
        'app.kubernetes.io/part-of': 'wa-gov-platform',
        'app.kubernetes.io/component': 'kafka-topic',
      },
      annotations,
    },
    spec: {
      // Explicit, so a kustomize namePrefix/nameSuffix can never rename the topic itself.
      topicName: topic.name,
      partitions: topic.partitions,
      replicas: REPLICAS,
      config: {
        'cleanup.policy': topic.cleanupPolicy,
        'retention.ms': topic.retentionMs,
        'min.insync.replicas': MIN_INSYNC_REPLICAS,
      },
    },
  };
}

export async function renderTopics(): Promise<string> {
  const topics: RenderedTopic[] = ALL_TOPICS.map((t) => ({
    name: t.name,
    partitions: t.partitions,
    cleanupPolicy: t.cleanupPolicy,
    retentionMs: t.retentionMs,
    description: t.description,
    key: t.keyDescription,
  }));
  for (const service of STACK_SERVICES) {
    for (const derived of await derivedTopics(service.name)) {
      const kind = derived.name.endsWith('.dlq') ? 'Dead letters' : 'Delayed retries';
      topics.push({ ...derived, description: `${kind} of consumer group ${service.name} (derived by libs/kafka ConsumerHost)` });
    }
  }
  const seen = new Set<string>();
  for (const t of topics) {
    if (seen.has(t.name)) throw new Error(`topic ${t.name} is declared twice`);
    seen.add(t.name);
  }
  const header = [
    '# Generated by tools/render-topics.ts from libs/contracts/src/topics.ts and the retry/DLQ topics of',
    '# libs/kafka ConsumerHost (one pair per service; consumer group = service name). Do not edit:',
    '#   node -r ./tools/ts-register.cjs tools/render-topics.ts --write',
    '',
  ].join('\n');
  return header + topics.map((t) => stringify(kafkaTopic(t), { lineWidth: 0 })).join('---\n');
}

async function main(argv: string[]): Promise<number> {
  const rendered = await renderTopics();
  if (argv.includes('--write')) {
    writeFileSync(TOPICS_FILE, rendered);
    process.stdout.write(`wrote ${relative(ROOT, TOPICS_FILE)}\n`);
    return 0;
  }
  if (argv.includes('--check')) {
    const current = readFileSync(TOPICS_FILE, 'utf8');
    if (current === rendered) return 0;
    process.stderr.write(`${relative(ROOT, TOPICS_FILE)} is out of date; run tools/render-topics.ts --write\n`);
    return 1;
  }
  process.stdout.write(rendered);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`render-topics failed: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
}
