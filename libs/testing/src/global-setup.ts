import { Client } from 'pg';
import { createKafka } from '@wa/kafka';
import { infraEnv } from './infra';

/** Integration tests need the real broker and Postgres; say how to get them instead of timing out. */
export default async function globalSetup(): Promise<void> {
  const { adminUrl, brokers } = infraEnv();
  const pg = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await pg.connect();
    await pg.query('SELECT 1');
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${adminUrl} (${(error as Error).message}). Run: npm run infra:up`);
  } finally {
    await pg.end().catch(() => undefined);
  }
  const admin = createKafka({ brokers, clientId: 'test-global-setup' }, { retry: { retries: 2 } }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    throw new Error(`Kafka is not reachable at ${brokers.join(',')} (${(error as Error).message}). Run: npm run infra:up`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
