// Prepares the shared infrastructure for local runs and CI: the platform database, every
// service's schema and roles, every contracts topic, and every service's migrations.
// Usage: node -r ./tools/ts-register.cjs tools/infra.ts up
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { ALL_TOPICS } from '@wa/contracts';
import { createKafka, declarationOf, ensureTopics, kafkaOptionsFromEnv } from '@wa/kafka';
import { bootstrapSchemas, rolesFor, urlForRole } from '@wa/persistence';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { migrateOf, STACK_SERVICES } from './stack-services';

const ROOT = join(__dirname, '..');
const run = promisify(execFile);
const DATABASE = process.env.PLATFORM_DATABASE ?? 'wa_platform';
const ROLE_PASSWORD = process.env.LOCAL_ROLE_PASSWORD ?? 'local-dev-only';

async function ensureDatabase(adminUrl: string): Promise<string> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!exists.rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${DATABASE}`;
  return url.toString();
}

async function waitForKafka(): Promise<void> {
  const options = kafkaOptionsFromEnv('infra');
  const admin = createKafka(options).admin();
  const deadline = Date.now() + 60000;
  for (;;) {
    try {
      await admin.connect();
      await admin.describeCluster();
      await admin.disconnect();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function up(): Promise<void> {
  const started = Date.now();
  const adminUrl = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const platformUrl = await ensureDatabase(adminUrl);
  const schemas = STACK_SERVICES.map((s) => s.schema);
  await bootstrapSchemas(platformUrl, schemas, () => ROLE_PASSWORD);
  console.log(`[infra] database ${DATABASE}: schemas ${schemas.join(', ')} with owner/migrator/app roles`);

  await waitForKafka();
  const options = kafkaOptionsFromEnv('infra');
  const created = await ensureTopics(createKafka(options), options, ALL_TOPICS.map(declarationOf));
  console.log(`[infra] topics: ${ALL_TOPICS.length} declared, ${created.length} created`);

  // Each service's own migrate command, as the Kubernetes migration Job runs it.
  await Promise.all(
    STACK_SERVICES.map(async (service) => {
      const url = urlForRole(platformUrl, rolesFor(service.schema).migrator, ROLE_PASSWORD);
      const { stdout } = await run(process.execPath, ['-r', './tools/ts-register.cjs', migrateOf(service)], {
        cwd: ROOT,
        env: { ...process.env, MIGRATION_DATABASE_URL: url },
      });
      process.stdout.write(`[infra] ${stdout}`);
    }),
  );

  mkdirSync(join(ROOT, '.local'), { recursive: true });
  writeFileSync(
    join(ROOT, '.local', 'infra.env'),
    [`DATABASE_ADMIN_URL=${adminUrl}`, `PLATFORM_DATABASE_URL=${platformUrl}`, `KAFKA_BROKERS=${options.brokers.join(',')}`, ''].join('\n'),
  );
  console.log(`[infra] ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const command = process.argv[2] ?? 'up';
if (command !== 'up') {
  console.error('usage: infra.ts up');
  process.exit(2);
}
up().then(
  () => process.exit(0),
  (error) => {
    console.error(`[infra] failed: ${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
