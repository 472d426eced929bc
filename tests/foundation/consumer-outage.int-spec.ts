import pino from 'pino';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { CE, Topics, type CitizenConsentV1, type EventEnvelope } from '@wa/contracts';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the ingress's cuttable broker proxy, a test helper
import { KafkaProxy } from '../../services/webhook-ingress/test/support/kafka-proxy';
import {
  ConsumerHost,
  createKafka,
  createMessagingTables,
  dlqTopicName,
  EventProducer,
  InboxRecord,
  NonRetriableError,
  processOnce,
  retryTopicName,
  type BatchItem,
} from '@wa/kafka';
import { createServiceDataSource, migrate } from '@wa/persistence';
import {
  createTestDatabase,
  createTestKafka,
  sequencedConsent,
  sequenceOf,
  sleep,
  TcpProxy,
  uniqueSuffix,
  waitFor,
  type Collector,
  type TestDatabase,
  type TestKafka,
} from '@wa/testing';

const SCHEMA = 'outagetest';
const quiet = pino({ level: process.env.TEST_LOG ?? 'silent' });

class CreateTables1764115200000 implements MigrationInterface {
  name = 'CreateTables1764115200000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTables(queryRunner, SCHEMA);
    await queryRunner.query(`
      CREATE TABLE "${SCHEMA}"."applied" (
        "n" bigserial PRIMARY KEY,
        "consumer" text NOT NULL,
        "event_id" text NOT NULL,
        "wa_id" text NOT NULL,
        "seq" int NOT NULL,
        UNIQUE ("consumer", "event_id")
      )`);
  }
  async down(): Promise<void> {}
}

/**
 * The database a consumer writes to goes away for far longer than the group's whole retry budget
 * (in-place tries plus every pass through the retry topic). Records are about infrastructure, not
 * bad: none may reach the retry topic or the DLQ, and each must be applied once, in order per key,
 * when the database is back. Both delivery paths are covered: per-record and batch handlers.
 */
describe('ConsumerHost while PostgreSQL is unreachable', () => {
  let db: TestDatabase;
  let tk: TestKafka;
  let proxy: TcpProxy;
  let dataSource: DataSource;
  let producer: EventProducer;
  const hosts: ConsumerHost[] = [];
  const collectors: Collector[] = [];

  beforeAll(async () => {
    db = await createTestDatabase([SCHEMA]);
    await migrate({ schema: SCHEMA, url: db.migratorUrl(SCHEMA), entities: [], migrations: [CreateTables1764115200000] });
    const through = TcpProxy.forUrl(db.appUrl(SCHEMA));
    proxy = through.proxy;
    await proxy.start();
    dataSource = await createServiceDataSource({
      schema: SCHEMA,
      url: through.rewrite(db.appUrl(SCHEMA)),
      entities: [InboxRecord],
    }).initialize();
    tk = await createTestKafka('outage');
    producer = new EventProducer(tk.kafka, tk.options, '/tests/consumer-outage');
    await producer.connect();
  });

  afterAll(async () => {
    await proxy.start();
    await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)));
    await Promise.all(collectors.map((c) => c.stop().catch(() => undefined)));
    await producer.disconnect();
    await dataSource.destroy().catch(() => undefined);
    await proxy.stop();
    await db.drop();
    await tk.cleanup();
  });

  const apply = async (consumer: string, env: EventEnvelope) => {
    const data = env.data as { contact: { waId: string } };
    await processOnce(dataSource, consumer, env.id, (manager) =>
      manager.query(`INSERT INTO "${SCHEMA}"."applied" (consumer, event_id, wa_id, seq) VALUES ($1, $2, $3, $4)`, [
        consumer,
        env.id,
        data.contact.waId,
        sequenceOf(env.data),
      ]),
    );
  };

  const appliedRows = async (consumer: string) =>
    (await dataSource.query(`SELECT event_id, wa_id, seq FROM "${SCHEMA}"."applied" WHERE consumer = $1 ORDER BY n`, [consumer])) as {
      event_id: string;
      wa_id: string;
      seq: number;
    }[];

  it('pauses and resumes instead of retrying or dead-lettering; applies everything once, in order per key', async () => {
    const tenant = `outage-${uniqueSuffix()}`.slice(0, 30);
    const perRecordGroup = `outage-record-${uniqueSuffix()}`;
    const batchGroup = `outage-batch-${uniqueSuffix()}`;
    // A retry budget far shorter than the outage: under the old rule every record would be dead-lettered.
    const policy = {
      logger: quiet,
      retry: { inlineAttempts: 3, inlineBackoffMs: 10, retryDelaysMs: [200, 200] },
      infrastructureBackoff: { initialMs: 100, maxMs: 1000 },
    };
    const poisonSeq = 1_000_000;
    const attempts = { record: 0, batch: 0 };

    const perRecord = new ConsumerHost(tk.kafka, tk.options, producer, { groupId: perRecordGroup, ...policy });
    perRecord.register(Topics.citizenConsent, async (env) => {
      attempts.record++;
      // A handler's own verdict on bad input still dead-letters, outage or not.
      if (sequenceOf(env.data) === poisonSeq) throw new NonRetriableError('bad input', 'invalid-consent');
      await apply(perRecordGroup, env);
    });
    const batched = new ConsumerHost(tk.kafka, tk.options, producer, { groupId: batchGroup, ...policy });
    batched.registerBatch(
      Topics.citizenConsent,
      async (items: BatchItem[]) => {
        attempts.batch++;
        for (const { envelope } of items) {
          if (sequenceOf(envelope.data) === poisonSeq) throw new NonRetriableError('bad input', 'invalid-consent');
          await apply(batchGroup, envelope);
        }
      },
      { maxBatchSize: 20 },
    );
    hosts.push(perRecord, batched);

    const keys = Array.from({ length: 6 }, (_, i) => `5730099${String(i).padStart(4, '0')}`);
    let seq = 0;
    const publish = (count: number) =>
      Promise.all(
        Array.from({ length: count }, () => {
          const n = seq++;
          return producer.publish(Topics.citizenConsent, sequencedConsent(tenant, keys[n % keys.length], n));
        }),
      );

    await perRecord.start();
    await batched.start();
    // The group's retry and DLQ topics exist once its host has started.
    for (const group of [perRecordGroup, batchGroup]) {
      for (const topic of [dlqTopicName(group), retryTopicName(group)]) collectors.push(await tk.collect(topic));
    }
    const [recordDlq, recordRetry, batchDlq, batchRetry] = collectors;
    await publish(60);
    for (const group of [perRecordGroup, batchGroup]) {
      await waitFor(async () => (await appliedRows(group)).length === 60, { what: `${group} before the outage`, timeoutMs: 60000 });
    }

    await proxy.stop();
    const outageStart = Date.now();
    try {
      const before = { ...attempts };
      await publish(120);
      await producer.publish(Topics.citizenConsent, sequencedConsent(tenant, keys[0], poisonSeq));
      // Both groups keep trying (and failing) the stuck records during the outage.
      await waitFor(() => attempts.record > before.record + 3 && attempts.batch > before.batch + 3, {
        what: 'handlers failing against the unreachable database',
        timeoutMs: 30000,
      });
      // Well past the old limit (in-place tries + both retry passes: under half a second here).
      const outageMs = 8000;
      await sleep(Math.max(0, outageMs - (Date.now() - outageStart)));
      expect(recordDlq.records).toHaveLength(0);
      expect(batchDlq.records).toHaveLength(0);
    } finally {
      await proxy.start();
    }

    for (const group of [perRecordGroup, batchGroup]) {
      await waitFor(async () => (await appliedRows(group)).length === 180, { what: `${group} after the outage`, timeoutMs: 90000 });
    }
    // The poison record comes after all others on its key: once the key is through, it is dead-lettered.
    await waitFor(() => recordDlq.records.length === 1 && batchDlq.records.length === 1, { what: 'the poison record in each DLQ' });

    for (const group of [perRecordGroup, batchGroup]) {
      const rows = await appliedRows(group);
      expect(new Set(rows.map((r) => r.event_id)).size).toBe(180);
      expect(new Set(rows.map((r) => r.seq))).toEqual(new Set(Array.from({ length: 180 }, (_, i) => i)));
      for (const key of keys) {
        const seqs = rows.filter((r) => r.wa_id === key).map((r) => r.seq);
        expect({ key, seqs }).toEqual({ key, seqs: [...seqs].sort((a, b) => a - b) });
      }
    }
    for (const dlq of [recordDlq, batchDlq]) {
      expect(dlq.records[0].headers['x-dlq-reason']).toBe('non-retriable');
      expect(dlq.records[0].headers['x-error']).toContain('bad input');
    }
    // Nothing spent a retry on the outage.
    expect(recordRetry.records).toHaveLength(0);
    expect(batchRetry.records).toHaveLength(0);
  });

  it('waits the same way when the handler cannot reach Kafka', async () => {
    const tenant = `kafka-down-${uniqueSuffix()}`.slice(0, 30);
    const forwardTenant = `fwd-${tenant}`.slice(0, 30);
    const group = `kafka-down-${uniqueSuffix()}`;
    // The handler forwards each record through its own producer, which reaches the broker through a
    // proxy the test closes (the consumer itself and everyone else keep the broker).
    const [brokerHost, brokerPort] = tk.options.brokers[0].split(':');
    const kafkaProxy = new KafkaProxy(brokerHost, Number(brokerPort));
    await kafkaProxy.start();
    const forwardOptions = { ...tk.options, brokers: [kafkaProxy.address] };
    const forwarder = new EventProducer(
      createKafka(forwardOptions, { retry: { initialRetryTime: 100, retries: 2 } }),
      forwardOptions,
      '/tests/outage',
      {
        requestTimeoutMs: 3000,
      },
    );
    await forwarder.connect();
    const attemptsDuring = { n: 0 };
    let kafkaDown = false;
    const host = new ConsumerHost(tk.kafka, tk.options, producer, {
      groupId: group,
      logger: quiet,
      retry: { inlineAttempts: 2, inlineBackoffMs: 10, retryDelaysMs: [200] },
      infrastructureBackoff: { initialMs: 100, maxMs: 1000 },
    });
    host.register(Topics.citizenConsent, async (env) => {
      if (env.tenantId !== tenant) return;
      if (kafkaDown) attemptsDuring.n++;
      // Forwarded under another tenant, which this handler ignores when it reads it back.
      await forwarder.publish(Topics.citizenConsent, { ...(env.data as CitizenConsentV1), tenantId: forwardTenant });
    });
    hosts.push(host);
    await host.start();
    const dlq = await tk.collect(dlqTopicName(group));
    const retry = await tk.collect(retryTopicName(group));
    try {
      await kafkaProxy.stop();
      kafkaDown = true;
      for (let seq = 0; seq < 10; seq++) await producer.publish(Topics.citizenConsent, sequencedConsent(tenant, '573008880001', seq));
      await waitFor(() => attemptsDuring.n >= 3, { what: 'the handler failing while Kafka is unreachable', timeoutMs: 60000 });
      await sleep(3000);
      expect(dlq.records).toHaveLength(0);
    } finally {
      kafkaDown = false;
      await kafkaProxy.start();
    }
    const forwarded = await tk.collect(Topics.citizenConsent.name);
    const seqs = () => forwarded.records.filter((r) => r.headers[CE.tenant] === forwardTenant).map((r) => sequenceOf(JSON.parse(r.value!)));
    await waitFor(() => new Set(seqs()).size === 10, { what: 'all ten forwarded', timeoutMs: 90000 });
    // In order, each once.
    expect(seqs()).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(dlq.records).toHaveLength(0);
    expect(retry.records).toHaveLength(0);
    await forwarder.disconnect();
    await kafkaProxy.stop();
  });

  it('keeps the member in the group while a handler runs longer than the session timeout', async () => {
    const tenant = `slow-${uniqueSuffix()}`.slice(0, 30);
    const group = `slow-${uniqueSuffix()}`;
    const calls = new Map<number, number>();
    // The broker's smallest session timeout; the first record's handler takes half as long again.
    const host = new ConsumerHost(tk.kafka, tk.options, producer, { groupId: group, logger: quiet, sessionTimeoutMs: 6000 });
    host.register(Topics.citizenConsent, async (env) => {
      if (env.tenantId !== tenant) return; // the first test's records share the topic
      const seq = sequenceOf(env.data);
      calls.set(seq, (calls.get(seq) ?? 0) + 1);
      if (seq === 0 && calls.get(0) === 1) await sleep(9000);
    });
    hosts.push(host);
    await host.start();
    for (let seq = 0; seq < 3; seq++) await producer.publish(Topics.citizenConsent, sequencedConsent(tenant, '573007770001', seq));
    await waitFor(() => calls.has(2), { what: 'the records after the slow one', timeoutMs: 60000 });
    // Evicted mid-handler, the member could not commit and the slow record would be delivered again.
    await sleep(3000);
    expect(Object.fromEntries(calls)).toEqual({ 0: 1, 1: 1, 2: 1 });
  });
});
