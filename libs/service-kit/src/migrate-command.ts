// The migrate entry point of every service (`node dist/services/<svc>/src/migrate.js`, the
// Kubernetes migration Job, `npm run stack:up`). Kept apart from the Nest app: it needs only
// Postgres, and it must run before the app is allowed to become ready.
import { migrate } from '@wa/persistence';
import type { ServiceDescriptor } from './service-descriptor';

export async function runMigrateCommand(descriptor: ServiceDescriptor): Promise<void> {
  const url = process.env.MIGRATION_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write(`${descriptor.name} migrate: MIGRATION_DATABASE_URL (the ${descriptor.schema}_migrator role) is required\n`);
    process.exit(78);
  }
  try {
    const report = await migrate({ schema: descriptor.schema, url, entities: descriptor.entities, migrations: descriptor.migrations });
    const applied = report.applied.length ? report.applied.join(', ') : 'none (schema is current)';
    process.stdout.write(`${descriptor.name} migrate: applied ${applied}\n`);
  } catch (error) {
    process.stderr.write(`${descriptor.name} migrate failed: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
