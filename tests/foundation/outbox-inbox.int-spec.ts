import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Topics, type CitizenConsentV1 } from '@wa/contracts';
import {
  ConsumerHost,
  addOutboxParking,
  createMessagingTables,
  EventProducer,
  InboxRecord,
  Outbox,
  OutboxRecord,
  OutboxRelay,
  processOnce,
} from '@wa/kafka';
import { createServiceDataSource, migrate } from '@wa/persistence';
import { createTestDatabase, createTestKafka, sleep, uniqueSuffix, waitFor, type TestDatabase, type TestKafka } from '@wa/testing';
import pino from 'pino';
import type { MigrationInterface, QueryRunner } from 'typeorm';

const SCHEMA = 'outboxtest';

class CreateTables1764115200000 implements MigrationInterface {
  name = 'CreateTables1764115200000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTables(queryRunner, SCHEMA);
    await addOutboxParking(queryRunner, SCHEMA);
    await queryRunner.query(`CREATE TABLE "${SCHEMA}"."applied_effect" (event_id text PRIMARY KEY, applied_at timestamptz DEFAULT now())`);
  }
  async down(): Promise<void> {}
}

const consent = (tenantId: string, n: number): CitizenConsentV1 =>
  ({
    tenantId,
    contact: { waId: `57300${n}` },
    category: 'utility',
    state: 'opted_in',
    channel: 'web',
    occurredAt: new Date().toISOString(),
  }) as CitizenConsentV1;

describe('transactional outbox and inbox on real Postgres and Kafka', () => {
  let db: TestDatabase;
  let tk: TestKafka;
  let dataSource: DataSource;
  let producer: EventProducer;
  const outbox = new Outbox('/tests/outbox');

  beforeAll(async () => {
    db = await createTestDatabase([SCHEMA]);
    await migrate({ schema: SCHEMA, url: db.migratorUrl(SCHEMA), entities: [], migrations: [CreateTables1764115200000] });
    dataSource = await createServiceDataSource({
      schema: SCHEMA,
      url: db.appUrl(SCHEMA),
      entities: [OutboxRecord, InboxRecord],
    }).initialize();
    tk = await createTestKafka('outbox');
    producer = new EventProducer(tk.kafka, tk.options, '/tests/outbox');
    await producer.connect();
  });

  afterAll(async () => {
    await producer.disconnect();
    await dataSource.destroy();
    await db.drop();
    await tk.cleanup();
  });

  it('publishes nothing for a rolled-back transaction', async () => {
    const tenant = `rollback-${uniqueSuffix()}`.slice(0, 30);
    const collector = await tk.collect(Topics.citizenConsent.name);
    await expect(
      dataSource.transaction(async (manager) => {
        await outbox.add(manager, Topics.citizenConsent, consent(tenant, 1));
        throw new Error('business rule failed after the outbox write');
      }),
    ).rejects.toThrow('business rule failed');
    const relay = new OutboxRelay(dataSource, producer);
    expect(await relay.relayOnce()).toBe(0);
    await sleep(1500);
    expect(collector.records.filter((r) => JSON.parse(r.value!).tenantId === tenant)).toHaveLength(0);
  });

  it('refuses an outbox write outside a transaction', async () => {
    await expect(outbox.add(dataSource.manager, Topics.citizenConsent, consent('roads-agency', 1))).rejects.toThrow(/inside a transaction/);
  });

  it('publishes a committed event; a relay crash between send and mark republishes it, and the inbox applies it once', async () => {
    const tenant = `crash-${uniqueSuffix()}`.slice(0, 30);
    let eventId = '';
    await dataSource.transaction(async (manager) => {
      eventId = await outbox.add(manager, Topics.citizenConsent, consent(tenant, 2));
    });

    let crashes = 1;
    const crashingRelay = new OutboxRelay(dataSource, producer, {
      afterSendBeforeMark: async () => {
        if (crashes-- > 0) throw new Error('relay process died after Kafka acked');
      },
    });
    await expect(crashingRelay.relayOnce()).rejects.toThrow('relay process died');
    // The row is still unpublished, so the next pass sends it again.
    expect(await crashingRelay.relayOnce()).toBe(1);
    expect(await crashingRelay.relayOnce()).toBe(0);

    const host = new ConsumerHost(tk.kafka, tk.options, producer, {
      groupId: `inbox-${uniqueSuffix()}`,
      logger: pino({ level: 'silent' }),
    });
    let deliveries = 0;
    host.register(Topics.citizenConsent, async (envelope) => {
      if (envelope.tenantId !== tenant) return;
      deliveries++;
      await processOnce(dataSource, 'consent-effect', envelope.id, async (manager) => {
        await manager.query(`INSERT INTO ${SCHEMA}.applied_effect (event_id) VALUES ($1)`, [envelope.id]);
      });
    });
    await host.start();
    try {
      await waitFor(() => deliveries >= 2, { what: 'both copies to be delivered', timeoutMs: 30000 });
    } finally {
      await host.stop();
    }
    const pg = new Client({ connectionString: db.adminUrl });
    await pg.connect();
    const effects = await pg.query(`SELECT event_id FROM ${SCHEMA}.applied_effect`);
    const published = await pg.query(`SELECT published_at, attempts FROM ${SCHEMA}.outbox WHERE "eventId" = $1`, [eventId]);
    await pg.end();
    expect(effects.rows).toEqual([{ event_id: eventId }]);
    expect(published.rows[0].published_at).not.toBeNull();
  });

  it('keeps insert order per key across a multi-row relay batch', async () => {
    const tenant = `order-${uniqueSuffix()}`.slice(0, 30);
    const collector = await tk.collect(Topics.citizenConsent.name);
    for (let i = 0; i < 50; i++) {
      await dataSource.transaction((manager) => outbox.add(manager, Topics.citizenConsent, { ...consent(tenant, 7), channel: `n${i}` }));
    }
    const relay = new OutboxRelay(dataSource, producer, { batchSize: 20 });
    while ((await relay.relayOnce()) > 0);
    const mine = await waitFor(() => {
      const rows = collector.records.filter((r) => JSON.parse(r.value!).tenantId === tenant);
      return rows.length === 50 ? rows : undefined;
    });
    expect(mine.map((r) => JSON.parse(r.value!).channel)).toEqual(Array.from({ length: 50 }, (_, i) => `n${i}`));
  });

  it('deletes published rows past their retention, batch after batch, and never an unpublished one', async () => {
    const relay = new OutboxRelay(dataSource, producer, { keepPublishedMs: 3600_000, pruneBatchSize: 7 });
    while ((await relay.relayOnce()) > 0); // earlier tests' rows: published now, so kept
    const tenant = `prune-${uniqueSuffix()}`.slice(0, 30);
    for (let i = 0; i < 30; i++) await dataSource.transaction((manager) => outbox.add(manager, Topics.citizenConsent, consent(tenant, i)));
    while ((await relay.relayOnce()) > 0);
    const ids: { seq: string }[] = await dataSource.query(
      `SELECT seq FROM ${SCHEMA}.outbox WHERE headers->>'ce_tenant' = $1 ORDER BY seq`,
      [tenant],
    );
    // Everything up to this tenant's 20th row was published two hours ago (the relay publishes in
    // seq order, so older rows come first), except one of them that never was: a row stuck
    // unpublished near the head must not stop the pruning behind it. The 10 newest just now.
    const boundary = ids[19].seq;
    const stuck = ids[3].seq;
    await dataSource.query(`UPDATE ${SCHEMA}.outbox SET published_at = now() - interval '2 hours' WHERE seq <= $1`, [boundary]);
    await dataSource.query(`UPDATE ${SCHEMA}.outbox SET published_at = NULL WHERE seq = $1`, [stuck]);
    const all: { seq: string }[] = await dataSource.query(`SELECT seq FROM ${SCHEMA}.outbox ORDER BY seq`);
    const kept = all.map((r) => r.seq).filter((seq) => BigInt(seq) > BigInt(boundary) || seq === stuck);
    expect(all.length - kept.length).toBeGreaterThan(19); // earlier tests' rows are among the old ones

    expect(await relay.prunePublished()).toBe(all.length - kept.length);
    const left: { seq: string }[] = await dataSource.query(`SELECT seq FROM ${SCHEMA}.outbox ORDER BY seq`);
    expect(left.map((r) => r.seq)).toEqual(kept);
    expect(await relay.prunePublished()).toBe(0);
    // 0 keeps published rows forever.
    await dataSource.query(`UPDATE ${SCHEMA}.outbox SET published_at = now() - interval '2 hours' WHERE seq = ANY($1::bigint[])`, [
      ids.slice(20).map((r) => r.seq),
    ]);
    expect(await new OutboxRelay(dataSource, producer, { keepPublishedMs: 0 }).prunePublished()).toBe(0);
  });
});
