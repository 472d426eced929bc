import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule, PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import type { BaseEnv } from '@wa/config';
import {
  ConsumerHost,
  createKafka,
  EventProducer,
  InboxRecord,
  Outbox,
  OutboxRecord,
  OutboxRelay,
  type Kafka,
  type KafkaOptions,
} from '@wa/kafka';
import { collectDefaults, loggerOptions } from '@wa/observability';
import { createServiceDataSource } from '@wa/persistence';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import type { DatabaseMode, ServiceDescriptor } from './service-descriptor';
import { DATABASE_MODE, KAFKA_CLIENT, KAFKA_OPTIONS, SERVICE_DESCRIPTOR, SERVICE_ENV } from './tokens';

/** Closes what the service opened, after Nest has stopped the consumers (they may still publish). */
@Injectable()
class PlatformLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly relay: OutboxRelay,
    private readonly producer: EventProducer,
    private readonly dataSource: DataSource,
    @Inject(DATABASE_MODE) private readonly databaseMode: DatabaseMode,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.databaseMode === 'at-start') await this.relay.stop();
    await this.producer.disconnect();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Injectable()
class RelayStarter {
  constructor(relay: OutboxRelay, @Inject(DATABASE_MODE) databaseMode: DatabaseMode) {
    // A replica without the database at start-up writes no outbox rows and relays none.
    if (databaseMode === 'at-start') relay.start();
  }
}

/**
 * The shared inside of every service: env, logger, Postgres (own schema), Kafka producer, consumer
 * host, outbox + relay, health and metrics. A service module imports `PlatformModule.forRoot(...)`
 * and adds only its domain.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot<E extends BaseEnv>(descriptor: ServiceDescriptor<E>, env: E): DynamicModule {
    collectDefaults(descriptor.name);
    const databaseMode: DatabaseMode = descriptor.database?.(env) ?? 'at-start';
    return {
      module: PlatformModule,
      imports: [
        TerminusModule,
        LoggerModule.forRoot({
          pinoHttp: {
            ...loggerOptions(descriptor.name, env.LOG_LEVEL),
            autoLogging: { ignore: (req) => /^\/(health|metrics)/.test(req.url ?? '') },
            // Failures are always logged; successful requests only at debug: at webhook rates an
            // info line per 200 costs more than the request (rates and latencies are in /metrics).
            customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'debug'),
          },
          ...(descriptor.selfLoggedRoutes?.length ? { exclude: descriptor.selfLoggedRoutes } : {}),
          ...(descriptor.requestLogger?.(env) === false ? { forRoutes: [] } : {}),
        }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: SERVICE_DESCRIPTOR, useValue: descriptor },
        { provide: SERVICE_ENV, useValue: env },
        { provide: DATABASE_MODE, useValue: databaseMode },
        {
          provide: KAFKA_OPTIONS,
          inject: [PinoLogger],
          useFactory: (logger: PinoLogger): KafkaOptions => ({
            clientId: descriptor.name,
            brokers: env.KAFKA_BROKERS.split(','),
            topicPrefix: env.KAFKA_TOPIC_PREFIX,
            replicationFactor: env.KAFKA_REPLICATION_FACTOR,
            logger: logger.logger,
          }),
        },
        { provide: KAFKA_CLIENT, inject: [KAFKA_OPTIONS], useFactory: (options: KafkaOptions) => createKafka(options) },
        {
          provide: EventProducer,
          inject: [KAFKA_CLIENT, KAFKA_OPTIONS],
          useFactory: async (kafka: Kafka, options: KafkaOptions) => {
            const producer = new EventProducer(kafka, options, `/services/${descriptor.name}`);
            await producer.connect();
            return producer;
          },
        },
        {
          provide: ConsumerHost,
          inject: [KAFKA_CLIENT, KAFKA_OPTIONS, EventProducer, PinoLogger],
          useFactory: (kafka: Kafka, options: KafkaOptions, producer: EventProducer, logger: PinoLogger) =>
            new ConsumerHost(kafka, options, producer, { groupId: descriptor.consumerGroup, logger: logger.logger }),
        },
        {
          provide: DataSource,
          useFactory: async () => {
            const dataSource = createServiceDataSource({
              schema: descriptor.schema,
              url: env.DATABASE_URL,
              entities: [OutboxRecord, InboxRecord, ...descriptor.entities],
              migrations: descriptor.migrations,
              applicationName: descriptor.name,
            });
            // On demand: connected by the first connectedDataSource() call instead.
            return databaseMode === 'at-start' ? dataSource.initialize() : dataSource;
          },
        },
        { provide: Outbox, useValue: new Outbox(`/services/${descriptor.name}`) },
        {
          provide: OutboxRelay,
          inject: [DataSource, EventProducer, PinoLogger],
          useFactory: (dataSource: DataSource, producer: EventProducer, logger: PinoLogger) =>
            new OutboxRelay(dataSource, producer, { logger: logger.logger, keepPublishedMs: env.OUTBOX_KEEP_PUBLISHED_HOURS * 3600_000 }),
        },
        RelayStarter,
        PlatformLifecycle,
      ],
      exports: [
        SERVICE_DESCRIPTOR,
        SERVICE_ENV,
        DATABASE_MODE,
        KAFKA_CLIENT,
        KAFKA_OPTIONS,
        EventProducer,
        ConsumerHost,
        DataSource,
        Outbox,
        OutboxRelay,
      ],
    };
  }
}

export const InjectEnv = () => Inject(SERVICE_ENV);
