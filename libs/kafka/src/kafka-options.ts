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
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...rest } = entry;
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
