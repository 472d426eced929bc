// Start-up gate: a replica that connects to PostgreSQL at start does not build its Nest app (and so
// starts no consumers, outbox relay or background loops) until its schema holds the newest
// migration its code ships. Meanwhile it answers the kubelet's probes itself: live, not ready, with
// the reason. This is what makes the release order safe whichever way it happens: a Deployment
// applied before its migration Job, or a first install where the bootstrap Job has not yet created
// the roles, waits instead of consuming against an old schema or crash-looping.
import { createServer, type Server } from 'node:http';
import { Client } from 'pg';
import type { BaseEnv } from '@wa/config';
import type { ServiceDescriptor } from './service-descriptor';

export interface SchemaStatus {
  current: boolean;
  /** Why the replica is not ready (or what it found), for /health/ready and the log. */
  reason: string;
}

/** The name TypeORM records for a migration: its `name` property, else its class name. */
export function migrationName(migration: new (...args: never[]) => unknown): string {
  const instance = new migration() as { name?: string };
  return instance.name ?? migration.name;
}

/** The newest migration the code ships (TypeORM orders by the 13-digit timestamp in the name). */
export function newestMigration(migrations: ServiceDescriptor['migrations']): string | undefined {
  const timestamp = (name: string) => Number(/(\d{13})$/.exec(name)?.[1] ?? 0);
  return migrations
    .map((m) => migrationName(m as new () => unknown))
    .sort((a, b) => timestamp(a) - timestamp(b) || a.localeCompare(b))
    .at(-1);
}

/**
 * Whether `schema.migrations` records `expected`. Read-only and as the app role: the table is never
 * created here (that is the migrate command's job), and a missing role, schema or table is a reason
 * to wait, not an error.
 */
export async function schemaStatus(url: string, schema: string, expected: string): Promise<SchemaStatus> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: `${schema}-schema-gate` });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    return { current: false, reason: `database unreachable (bootstrap Job not run yet?): ${(error as Error).message}` };
  }
  try {
    const table = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${schema}.migrations`]);
    if (!table.rows[0]?.t) return { current: false, reason: `${schema}.migrations does not exist: waiting for the migration Job` };
    const found = await client.query(`SELECT 1 FROM "${schema}".migrations WHERE name = $1`, [expected]);
    return found.rowCount
      ? { current: true, reason: `schema ${schema} has ${expected}` }
      : { current: false, reason: `schema ${schema} lacks migration ${expected}: waiting for the migration Job` };
  } catch (error) {
    return { current: false, reason: `cannot read ${schema}.migrations: ${(error as Error).message}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface SchemaGateOptions {
  pollMs?: number;
  log?: (line: string) => void;
}

/**
 * Resolves once the schema is current. While it waits, a bare HTTP server on the service's port
 * answers /health/live 200 and everything else 503 with the reason (readiness keeps the pod out of
 * its Service; the startup and liveness probes stay green, so the kubelet does not restart it).
 * Replicas that connect on demand and services without migrations pass straight through.
 */
export async function waitForSchema<E extends BaseEnv>(
  descriptor: ServiceDescriptor<E>,
  env: E,
  { pollMs = 2000, log = (line) => process.stdout.write(`${line}\n`) }: SchemaGateOptions = {},
): Promise<void> {
  if ((descriptor.database?.(env) ?? 'at-start') !== 'at-start') return;
  const expected = newestMigration(descriptor.migrations);
  if (!expected) return;
  let status = await schemaStatus(env.DATABASE_URL, descriptor.schema, expected);
  if (status.current) return;

  log(`${descriptor.name}: not starting yet: ${status.reason}`);
  const server = holdingServer(() => status.reason);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.PORT, '0.0.0.0', resolve);
  });
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${descriptor.name}: ${signal} while waiting for the schema; exiting`);
    server.close(() => process.exit(0));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    let lastReason = status.reason;
    while (!status.current) {
      await new Promise((r) => setTimeout(r, pollMs));
      status = await schemaStatus(env.DATABASE_URL, descriptor.schema, expected);
      if (status.reason !== lastReason && !status.current) log(`${descriptor.name}: still waiting: ${status.reason}`);
      lastReason = status.reason;
    }
    log(`${descriptor.name}: ${status.reason}; starting`);
  } finally {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function holdingServer(reason: () => string): Server {
  return createServer((request, response) => {
    const live = request.url === '/health/live';
    const body = live
      ? { status: 'ok' }
      : {
          status: 'error',
          info: {},
          error: { schema: { status: 'down', message: reason() } },
          details: { schema: { status: 'down', message: reason() } },
        };
    response.writeHead(live ? 200 : 503, { 'content-type': 'application/json', connection: 'close' });
    response.end(JSON.stringify(body));
  });
}
