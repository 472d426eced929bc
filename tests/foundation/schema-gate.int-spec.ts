// A service started against a schema one migration behind its code: the port answers live 200 and
// ready 503 with the reason, no consumer joins the group, and once the migration lands the service
// starts by itself (consumers in the group, ready 200). Real Postgres and Kafka, through runService
// exactly as main.ts calls it.
import 'reflect-metadata';
import { Controller, Module, type INestApplication } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { BaseEnv } from '@wa/config';
import { Topics } from '@wa/contracts';
import { addOutboxParking, createMessagingTables } from '@wa/kafka';
import { migrate } from '@wa/persistence';
import { PlatformModule, runService, newestMigration, schemaStatus, type ServiceDescriptor } from '@wa/service-kit';
import { createTestDatabase, createTestKafka, freePort, waitFor, type TestDatabase, type TestKafka } from '@wa/testing';

const SCHEMA = 'gatetest';

class First1700000000000 implements MigrationInterface {
  name = 'First1700000000000';
  async up(q: QueryRunner): Promise<void> {
    await createMessagingTables(q, SCHEMA);
    await addOutboxParking(q, SCHEMA);
  }
  async down(): Promise<void> {}
}

class Second1700000000001 implements MigrationInterface {
  name = 'Second1700000000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "${SCHEMA}"."thing" (id int PRIMARY KEY)`);
  }
  async down(): Promise<void> {}
}

@Controller()
class ThingConsumer {
  @EventPattern(Topics.agencyCase.name)
  async onCase(): Promise<void> {}
}

const descriptor = (group: string): ServiceDescriptor => ({
  name: 'schema-gate-test',
  schema: SCHEMA,
  consumerGroup: group,
  envClass: BaseEnv,
  entities: [],
  migrations: [First1700000000000, Second1700000000001],
  description: 'schema gate test service',
});

@Module({})
class TestModule {
  static forRoot(d: ServiceDescriptor, env: BaseEnv) {
    return { module: TestModule, imports: [PlatformModule.forRoot(d, env)], controllers: [ThingConsumer] };
  }
}

let db: TestDatabase;
let kafka: TestKafka;
let app: INestApplication | undefined;
const saved = { ...process.env };

beforeAll(async () => {
  [db, kafka] = await Promise.all([createTestDatabase([SCHEMA]), createTestKafka('schemagate')]);
});

afterAll(async () => {
  await app?.close();
  process.env = saved;
  await kafka?.cleanup();
  await db?.drop();
});

test('the newest migration is the one with the latest timestamp, whatever the array order', () => {
  expect(newestMigration([Second1700000000001, First1700000000000])).toBe('Second1700000000001');
  expect(newestMigration([])).toBeUndefined();
});

test('a missing role or table is a reason to wait, not a crash', async () => {
  const status = await schemaStatus(db.appUrl(SCHEMA).replace(`${SCHEMA}_app`, 'no_such_role'), SCHEMA, 'X1');
  expect(status).toMatchObject({ current: false, reason: expect.stringContaining('database unreachable') });
  const noTable = await schemaStatus(db.appUrl(SCHEMA), SCHEMA, 'X1');
  expect(noTable).toMatchObject({ current: false, reason: expect.stringContaining('gatetest.migrations does not exist') });
});

test('waits (live, not ready, no consumers) one migration behind, then starts when the migration lands', async () => {
  const group = `gate-${Date.now().toString(36)}`;
  const d = descriptor(group);
  await migrate({ schema: SCHEMA, url: db.migratorUrl(SCHEMA), entities: [], migrations: [First1700000000000] });

  const port = await freePort();
  Object.assign(process.env, {
    NODE_ENV: 'test',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.appUrl(SCHEMA),
    KAFKA_BROKERS: kafka.options.brokers.join(','),
    KAFKA_TOPIC_PREFIX: kafka.prefix,
  });
  let started = false;
  const running = runService(d, (env) => TestModule.forRoot(d, env)).then((a) => {
    started = true;
    app = a;
    return a;
  });

  const ready = await waitFor(
    async () => {
      const r = await fetch(`http://127.0.0.1:${port}/health/ready`);
      return { status: r.status, body: await r.text() };
    },
    { what: 'the waiting replica to answer its readiness probe', timeoutMs: 30000, intervalMs: 200 },
  );
  expect(ready.status).toBe(503);
  expect(ready.body).toContain('lacks migration Second1700000000001');
  expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);

  // Still waiting after a few polls: no app, so no consumer has joined the group.
  await new Promise((r) => setTimeout(r, 4500));
  expect(started).toBe(false);
  const admin = kafka.kafka.admin();
  await admin.connect();
  try {
    const before = await admin.describeGroups([`${kafka.prefix}${group}`]);
    expect(before.groups[0].members).toHaveLength(0);

    await migrate({ schema: SCHEMA, url: db.migratorUrl(SCHEMA), entities: [], migrations: d.migrations });
    await running;
    expect(started).toBe(true);
    const after = await waitFor(
      async () => {
        const r = await fetch(`http://127.0.0.1:${port}/health/ready`);
        return r.status === 200 ? r.status : undefined;
      },
      { what: 'the started service to become ready', timeoutMs: 60000, intervalMs: 250 },
    );
    expect(after).toBe(200);
    const joined = await waitFor(
      async () => {
        const g = await admin.describeGroups([`${kafka.prefix}${group}`]);
        return g.groups[0].members.length > 0 ? g.groups[0].members.length : undefined;
      },
      { what: 'the consumer to join its group', timeoutMs: 60000, intervalMs: 250 },
    );
    expect(joined).toBeGreaterThan(0);
  } finally {
    await admin.disconnect();
  }
});
