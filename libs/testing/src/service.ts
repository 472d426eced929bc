import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadEnv, type BaseEnv } from '@wa/config';
import { migrate } from '@wa/persistence';
import { createServiceApp, type ServiceDescriptor } from '@wa/service-kit';
import { createTestDatabase, type TestDatabase } from './infra';
import type { TestKafka } from './kafka';

export interface TestService {
  app: NestFastifyApplication;
  /** http://127.0.0.1:<port> */
  url: string;
  db: TestDatabase;
  /** Stops the app (consumers, relay, pools); the database stays until db.drop(). */
  close(): Promise<void>;
}

/**
 * Boots a service exactly as main.ts does (same module, same transport, same filters) against a
 * fresh database with its migrations applied and the test file's Kafka namespace.
 */
export async function startTestService<E extends BaseEnv>(
  descriptor: ServiceDescriptor<E>,
  buildModule: (env: E) => unknown,
  kafka: TestKafka,
  options: { env?: Record<string, string>; db?: TestDatabase; listen?: boolean } = {},
): Promise<TestService> {
  const db = options.db ?? (await createTestDatabase([descriptor.schema]));
  await migrate({ schema: descriptor.schema, url: db.migratorUrl(descriptor.schema), entities: [], migrations: descriptor.migrations });
  const env = loadEnv(descriptor.envClass, {
    NODE_ENV: 'test',
    PORT: '1',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.appUrl(descriptor.schema),
    KAFKA_BROKERS: kafka.options.brokers.join(','),
    KAFKA_TOPIC_PREFIX: kafka.prefix,
    // Locally signed tokens are never a default: tests ask for them as the local stack does.
    AUTH_MODE: 'sandbox',
    ...options.env,
  });
  const app = await createServiceApp(descriptor, buildModule(env));
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, db, close: () => app.close() };
}
