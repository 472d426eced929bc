import { randomUUID } from 'node:crypto';
import { ConfigResourceTypes } from 'kafkajs';
import pino from 'pino';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { CE, Topics } from '@wa/contracts';
import { addOutboxParking, createMessagingTables, EventProducer, Outbox, OutboxRecord, OutboxRelay } from '@wa/kafka';
import { metricsRegistry } from '@wa/observability';
import { createServiceDataSource, migrate } from '@wa/persistence';
import {
  createTestDatabase,
  createTestKafka,
  sequencedConsent,
  sequenceOf,
  uniqueSuffix,
  waitFor,
  type TestDatabase,
  type TestKafka,
} from '@wa/testing';

const SCHEMA = 'parktest';
const quiet = pino({ level: process.env.TEST_LOG ?? 'silent' });

class CreateTables1764115200000 implements MigrationInterface {
  name = 'CreateTables1764115200000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTables(queryRunner, SCHEMA);
  }
  async down(): Promise<void> {}
}
class Parking1765000000000 implements MigrationInterface {
  name = 'Parking1765000000000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await addOutboxParking(queryRunner, SCHEMA);
  }
  async down(): Promise<void> {}
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = metricsRegistry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
}

describe('outbox relay with a row the broker refuses', () => {
  let db: TestDatabase;
  let tk: TestKafka;
  let dataSource: DataSource;
  let producer: EventProducer;
  const outbox = new Outbox('/tests/outbox-parking');

  beforeAll(async () => {
    db = await createTestDatabase([SCHEMA]);
    await migrate({
      schema: SCHEMA,
      url: db.migratorUrl(SCHEMA),
      entities: [],
      migrations: [CreateTables1764115200000, Parking1765000000000],
    });
    dataSource = await createServiceDataSource({ schema: SCHEMA, url: db.appUrl(SCHEMA), entities: [OutboxRecord] }).initialize();
    tk = await createTestKafka('parking');
    producer = new EventProducer(tk.kafka, tk.options, '/tests/outbox-parking');
    await producer.connect();
  });

  afterAll(async () => {
    await producer.disconnect();
    await dataSource.destroy();
    await db.drop();
    await tk.cleanup();
  });

  const addConsents = (tenant: string, waId: string, seqs: number[]) =>
    dataSource.transaction((manager) =>
      outbox.addMany(
        manager,
        seqs.map((seq) => ({ spec: Topics.citizenConsent, data: sequencedConsent(tenant, waId, seq) })),
      ),
    );

  it('parks a record larger than the topic accepts after N tries; the rows after it flow', async () => {
    const tenant = `park-${uniqueSuffix()}`.slice(0, 30);
    const waId = '573001112233';
    await addConsents(tenant, waId, [0, 1, 2]);
    // A row that passed validation when it was written but that the broker refuses: 1.5 MB on a
    // topic configured for 1 MB records.
    const admin = tk.kafka.admin();
    await admin.connect();
    try {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: `${tk.prefix}${Topics.citizenConsent.name}`,
            configEntries: [{ name: 'max.message.bytes', value: String(1024 * 1024) }],
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
    const [template] = await dataSource.query(`SELECT topic, key, value, headers FROM "${SCHEMA}"."outbox" ORDER BY seq LIMIT 1`);
    const poisonId = randomUUID();
    const oversized = JSON.stringify({ ...JSON.parse(template.value), padding: 'x'.repeat(1_500_000) });
    await dataSource.query(`INSERT INTO "${SCHEMA}"."outbox" ("eventId", topic, key, value, headers) VALUES ($1, $2, $3, $4, $5)`, [
      poisonId,
      template.topic,
      template.key,
      oversized,
      JSON.stringify({ ...template.headers, [CE.id]: poisonId }),
    ]);
    await addConsents(tenant, waId, [3, 4, 5]);
    const parkedBefore = await metricValue('outbox_parked_records_total', { schema: SCHEMA });

    const collector = await tk.collect(Topics.citizenConsent.name);
    const relay = new OutboxRelay(dataSource, producer, { logger: quiet, idleIntervalMs: 50, parkAfterAttempts: 3 });
    relay.start();
    try {
      const mine = () => collector.records.filter((r) => r.headers[CE.tenant] === tenant);
      await waitFor(() => mine().length >= 6, { what: 'the six good rows', timeoutMs: 60000 });
      const [poison] = await waitFor(
        async () => {
          const rows = await dataSource.query(`SELECT attempts, last_error, parked_at FROM "${SCHEMA}"."outbox" WHERE "eventId" = $1`, [
            poisonId,
          ]);
          return rows[0]?.parked_at ? rows : undefined;
        },
        { what: 'the oversized row parked' },
      );
      expect(poison.attempts).toBe(3);
      expect(poison.last_error).toMatch(/too large|MESSAGE_TOO_LARGE|larger than/i);
      expect(
        mine()
          .map((r) => sequenceOf(JSON.parse(r.value!)))
          .sort(),
      ).toEqual([0, 1, 2, 3, 4, 5]);
      expect(mine().some((r) => r.headers[CE.id] === poisonId)).toBe(false);
      // The rows after it are published; only the parked one is left unpublished.
      const [{ unpublished }] = await dataSource.query(
        `SELECT count(*)::int AS unpublished FROM "${SCHEMA}"."outbox" WHERE published_at IS NULL`,
      );
      expect(unpublished).toBe(1);
      expect(await relay.countParked()).toBe(1);
      expect(await metricValue('outbox_parked_records_total', { schema: SCHEMA })).toBe(parkedBefore + 1);
      expect(await metricValue('outbox_parked_records', { schema: SCHEMA })).toBe(1);
    } finally {
      await relay.stop();
      await collector.stop();
    }
  });

  it('counts no tries while Kafka is unreachable', async () => {
    const tenant = `down-${uniqueSuffix()}`.slice(0, 30);
    await addConsents(tenant, '573004445566', [0]);
    const unreachable = {
      send: async () => {
        throw Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { name: 'KafkaJSConnectionError' });
      },
    } as unknown as EventProducer;
    const relay = new OutboxRelay(dataSource, unreachable, { logger: quiet, parkAfterAttempts: 1 });
    for (let i = 0; i < 3; i++) await expect(relay.relayOnce()).rejects.toThrow(/ECONNREFUSED/);
    const rows = await dataSource.query(
      `SELECT attempts, parked_at, published_at FROM "${SCHEMA}"."outbox" WHERE headers->>'${CE.tenant}' = $1`,
      [tenant],
    );
    expect(rows).toEqual([{ attempts: 0, parked_at: null, published_at: null }]);
    // Back: it goes out as usual.
    const real = new OutboxRelay(dataSource, producer, { logger: quiet });
    await waitFor(async () => (await real.relayOnce()) > 0 || undefined, { what: 'the row published once Kafka is back' });
  });
});
