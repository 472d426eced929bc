import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { bootstrapSchemas, rolesFor, urlForRole } from '@wa/persistence';

const ROOT = join(__dirname, '..', '..', '..');

/** Connection facts written by `npm run infra:up` (or CI), overridable by the environment. */
export function infraEnv(): { adminUrl: string; brokers: string[] } {
  let file: Record<string, string> = {};
  try {
    file = Object.fromEntries(
      readFileSync(join(ROOT, '.local', 'infra.env'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  } catch {
    // no file: fall back to defaults below
  }
  return {
    adminUrl: process.env.DATABASE_ADMIN_URL ?? file.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    brokers: (process.env.KAFKA_BROKERS ?? file.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  };
}

export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export const LOCAL_ROLE_PASSWORD = 'local-dev-only';

export interface TestDatabase {
  name: string;
  adminUrl: string;
  /** URL of a service's app role (DML on its schema only). */
  appUrl(schema: string): string;
  migratorUrl(schema: string): string;
  drop(): Promise<void>;
}

/**
 * A fresh database per test file, with the given service schemas and roles bootstrapped exactly as
 * in production. Schemas keep their real names (migrations are schema-qualified), isolation comes
 * from the database.
 */
export async function createTestDatabase(schemas: string[]): Promise<TestDatabase> {
  const { adminUrl } = infraEnv();
  const name = `wa_test_${uniqueSuffix()}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const dbAdminUrl = url.toString();
  await bootstrapSchemas(dbAdminUrl, schemas, () => LOCAL_ROLE_PASSWORD);
  return {
    name,
    adminUrl: dbAdminUrl,
    appUrl: (schema) => urlForRole(dbAdminUrl, rolesFor(schema).app, LOCAL_ROLE_PASSWORD),
    migratorUrl: (schema) => urlForRole(dbAdminUrl, rolesFor(schema).migrator, LOCAL_ROLE_PASSWORD),
    drop: async () => {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
