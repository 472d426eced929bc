import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import pino, { type Logger } from 'pino';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  /** Prepended to every topic name (tests, shared clusters); '' in production. */
  topicPrefix?: string;
  /** 1 on the local single node; 3 in clusters (see deploy/). */
  replicationFactor?: number;
  logger?: Logger;
}

export function prefixed(options: Pick<KafkaOptions, 'topicPrefix'>, name: string): string {
  return `${options.topicPrefix ?? ''}${name}`;
}

export function unprefixed(options: Pick<KafkaOptions, 'topicPrefix'>, name: string): string {
  const prefix = options.topicPrefix ?? '';
  return prefix && name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

/** kafkajs logs through our pino logger at warn and above; its own console logger is too chatty. */
export function createKafka(options: KafkaOptions, extra: Partial<KafkaConfig> = {}): Kafka {
  const log = options.logger ?? pino({ level: 'warn' });
  // We pick the partitioner explicitly (producer.ts), so kafkajs's reminder about its default is noise.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...rest } = entry;
        // Retries are bounded on purpose (callers must see a down broker, e.g. the webhook answers
        // 503); kafkajs warns that this weakens idempotence across a give-up, which we accept:
        // consumers dedupe by ce_id anyway.
        if (message?.startsWith('Limiting retries for the idempotent producer')) return;
        if (level <= logLevel.ERROR) log.error({ kafka: rest }, message);
        else if (level === logLevel.WARN) log.warn({ kafka: rest }, message);
      },
    retry: { initialRetryTime: 200, retries: 8 },
    ...extra,
  });
}

export function kafkaOptionsFromEnv(clientId: string, env: NodeJS.ProcessEnv = process.env, logger?: Logger): KafkaOptions {
  return {
    clientId,
    brokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    topicPrefix: env.KAFKA_TOPIC_PREFIX ?? '',
    replicationFactor: Number(env.KAFKA_REPLICATION_FACTOR ?? 1),
    logger,
  };
}
