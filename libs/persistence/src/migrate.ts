import { rolesFor } from './bootstrap';
import { createServiceDataSource, type ServiceDataSourceOptions } from './data-source';

export interface MigrationReport {
  applied: string[];
  waitedForLockMs: number;
}

/**
 * Applies pending migrations as the schema owner under a Postgres advisory lock, so replicas or a
 * Job racing a developer never run the same migration twice. Each migration runs in its own
 * transaction; a failure leaves earlier ones applied and names the one that failed.
 */
export async function migrate(options: ServiceDataSourceOptions): Promise<MigrationReport> {
  const dataSource = createServiceDataSource({ ...options, asOwner: true, poolSize: 2 });
  await dataSource.initialize();
  const lockRunner = dataSource.createQueryRunner();
  try {
    await lockRunner.connect();
    const started = Date.now();
    await lockRunner.query('SELECT pg_advisory_lock(hashtext($1))', [`migrate:${options.schema}`]);
    const waitedForLockMs = Date.now() - started;
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      await protectMigrationsTable(lockRunner, options.schema);
      return { applied: applied.map((m) => m.name), waitedForLockMs };
    } finally {
      await lockRunner.query('SELECT pg_advisory_unlock(hashtext($1))', [`migrate:${options.schema}`]);
    }
  } finally {
    await lockRunner.release();
    await dataSource.destroy();
  }
}

/**
 * The app role reads the migrations table (readiness checks the schema's version) but must not
 * change it: a compromised app could otherwise mark a migration applied and skip it. Default
 * privileges grant every new table's DML to the app role, so this runs after each migrate.
 */
async function protectMigrationsTable(runner: { query(sql: string): Promise<unknown> }, schema: string): Promise<void> {
  const { app } = rolesFor(schema);
  await runner.query(`REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ${schema}.migrations FROM ${app}`);
  await runner.query(`GRANT SELECT ON ${schema}.migrations TO ${app}`);
}
