import { Client } from 'pg';

export interface SchemaRoles {
  schema: string;
  owner: string;
  migrator: string;
  app: string;
}

export function rolesFor(schema: string): SchemaRoles {
  return { schema, owner: `${schema}_owner`, migrator: `${schema}_migrator`, app: `${schema}_app` };
}

const IDENT = /^[a-z][a-z0-9_]{0,40}$/;

/**
 * Creates, per service, its schema and three roles: an owner (NOLOGIN, owns every object), a
 * migrator (LOGIN, member of the owner, runs DDL as the owner) and an app role (LOGIN, DML on
 * this schema only). Idempotent; run by an admin (a platform Job in Kubernetes, infra-up locally).
 * Passwords come from the caller (Secrets), never from code.
 */
export async function bootstrapSchemas(adminUrl: string, schemas: string[], passwordFor: (role: string) => string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    // Only the platform's roles may connect to the platform's database, and none makes temporary
    // tables (PUBLIC has both by default on every new database).
    const database = client.escapeIdentifier((await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db);
    await client.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${database} FROM PUBLIC`);
    for (const schema of schemas) {
      if (!IDENT.test(schema)) throw new Error(`invalid schema name ${schema}`);
      const r = rolesFor(schema);
      // Serialize concurrent bootstraps (parallel test workers) on role creation.
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`bootstrap:${schema}`]);
      try {
        await ensureRole(client, r.owner, null);
        await ensureRole(client, r.migrator, passwordFor(r.migrator));
        await ensureRole(client, r.app, passwordFor(r.app));
        await client.query(`GRANT ${r.owner} TO ${r.migrator}`);
        await client.query(`GRANT ${r.owner} TO CURRENT_USER`);
        await client.query(`GRANT CONNECT ON DATABASE ${database} TO ${r.migrator}, ${r.app}`);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${r.owner}`);
        await client.query(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`);
        await client.query(`GRANT USAGE ON SCHEMA ${schema} TO ${r.app}`);
        await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${r.app}`);
        await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${r.app}`);
        // Default privileges fire only for objects created by the named role: the owner.
        await client.query(
          `ALTER DEFAULT PRIVILEGES FOR ROLE ${r.owner} IN SCHEMA ${schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r.app}`,
        );
        await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${r.owner} IN SCHEMA ${schema} GRANT USAGE, SELECT ON SEQUENCES TO ${r.app}`);
        await client.query(`ALTER ROLE ${r.app} SET search_path = ${schema}`);
        await client.query(`ALTER ROLE ${r.migrator} SET search_path = ${schema}`);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`bootstrap:${schema}`]);
      }
    }
  } finally {
    await client.end();
  }
}

async function ensureRole(client: Client, role: string, password: string | null): Promise<void> {
  const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  const login = password === null ? 'NOLOGIN' : 'LOGIN';
  if (exists.rowCount === 0) {
    try {
      await client.query(`CREATE ROLE ${role} ${login}`);
    } catch (error) {
      // Roles are cluster-wide: a bootstrap of another database may have created it meanwhile.
      const code = (error as { code?: string }).code;
      if (code !== '42710' && code !== '23505') throw error;
    }
  }
  if (password !== null) {
    await client.query(`ALTER ROLE ${role} ${login} PASSWORD ${client.escapeLiteral(password)}`);
  }
}

/** Drops a schema and its roles: test clean-up only. */
export async function dropSchema(adminUrl: string, schema: string): Promise<void> {
  if (!IDENT.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const r = rolesFor(schema);
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    for (const role of [r.app, r.migrator, r.owner]) {
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      if (exists.rowCount) {
        await client.query(`DROP OWNED BY ${role} CASCADE`);
        await client.query(`DROP ROLE ${role}`);
      }
    }
  } finally {
    await client.end();
  }
}

/** Replaces the user (and password) of a postgres URL: one admin URL yields each role's URL. */
export function urlForRole(baseUrl: string, role: string, password: string): string {
  const url = new URL(baseUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}
