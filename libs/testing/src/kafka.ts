import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { ALL_TOPICS } from '@wa/contracts';
import { createKafka, declarationOf, deleteTopicsWithPrefix, ensureTopics, type KafkaOptions } from '@wa/kafka';
import { infraEnv, uniqueSuffix } from './infra';

export interface TestKafka {
  options: KafkaOptions;
  kafka: Kafka;
  prefix: string;
  /** Reads everything on a (prefixed) topic into memory, from the beginning. */
  collect(topic: string): Promise<Collector>;
  cleanup(): Promise<void>;
}

export interface Collected {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

export interface Collector {
  records: Collected[];
  stop(): Promise<void>;
}

function toCollected(message: KafkaMessage, partition: number): Collected {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = v.toString();
  return { key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers, partition, offset: message.offset };
}

/**
 * A unique topic namespace per test file on the real broker: every contracts topic is created
 * under the prefix, so files never see each other's records; cleanup deletes them.
 */
export async function createTestKafka(label: string): Promise<TestKafka> {
  const prefix = `t.${label}.${uniqueSuffix()}.`;
  const options: KafkaOptions = { brokers: infraEnv().brokers, clientId: `test-${label}`, topicPrefix: prefix, replicationFactor: 1 };
  const kafka = createKafka(options);
  await ensureTopics(kafka, options, ALL_TOPICS.map(declarationOf));
  const consumers: Consumer[] = [];
  return {
    options,
    kafka,
    prefix,
    async collect(topic) {
      const records: Collected[] = [];
      const consumer = kafka.consumer({ groupId: `${prefix}collector.${uniqueSuffix()}`, allowAutoTopicCreation: false });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic: `${prefix}${topic}`, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message, partition }) => void records.push(toCollected(message, partition)) });
      return {
        records,
        stop: async () => {
          await consumer.disconnect();
        },
      };
    },
    async cleanup() {
      await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)));
      await deleteTopicsWithPrefix(kafka, prefix).catch(() => undefined);
    },
  };
}
