import type { Admin, Kafka } from 'kafkajs';
import type { TopicSpec } from '@wa/contracts';
import { prefixed, type KafkaOptions } from './kafka-options';

export interface TopicDeclaration {
  name: string;
  partitions: number;
  cleanupPolicy: 'delete' | 'compact';
  retentionMs: number;
  maxMessageBytes?: number;
}

export function declarationOf(spec: TopicSpec): TopicDeclaration {
  return {
    name: spec.name,
    partitions: spec.partitions,
    cleanupPolicy: spec.cleanupPolicy,
    retentionMs: spec.retentionMs,
    maxMessageBytes: spec.maxMessageBytes,
  };
}

/** The config entries a declaration becomes on the broker (also rendered into deploy/ by tools). */
export function topicConfig(t: TopicDeclaration): Record<string, string> {
  const config: Record<string, string> = { 'cleanup.policy': t.cleanupPolicy, 'retention.ms': String(t.retentionMs) };
  if (t.maxMessageBytes) config['max.message.bytes'] = String(t.maxMessageBytes);
  return config;
}

/**
 * Creates missing topics (auto-creation is off on our brokers). Existing topics are left alone:
 * changing a partition count remaps keys, so that is a reviewed operation, not a start-up side effect.
 */
export async function ensureTopics(kafka: Kafka, options: KafkaOptions, topics: TopicDeclaration[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(prefixed(options, t.name)));
    if (missing.length === 0) return [];
    try {
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((t) => ({
          topic: prefixed(options, t.name),
          numPartitions: t.partitions,
          replicationFactor: options.replicationFactor ?? 1,
          configEntries: Object.entries(topicConfig(t)).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (error) {
      // Another replica (or test worker) created them first: that is the outcome we wanted.
      if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
    }
    await waitForLeaders(
      admin,
      missing.map((t) => prefixed(options, t.name)),
    );
    return missing.map((t) => prefixed(options, t.name));
  } finally {
    await admin.disconnect();
  }
}

/**
 * kafkajs's own waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION, which a busy broker
 * answers while the new topic's metadata propagates; poll until every partition has a leader.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      if (metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics without leaders after ${timeoutMs} ms: ${topics.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Deletes every topic with the given prefix: test clean-up only. */
export async function deleteTopicsWithPrefix(kafka: Kafka, prefix: string): Promise<void> {
  if (!prefix) throw new Error('refusing to delete topics without a prefix');
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 10000 });
  } finally {
    await admin.disconnect();
  }
}
