// The batch-handler option of libs/kafka's ConsumerHost, which the scheduler's planning consumer
// uses. It lives here because a libs/kafka test may not import @wa/testing (which imports @wa/kafka).
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { CE, Topics, type CitizenConsentV1 } from '@wa/contracts';
import { createTestKafka, sequencedConsent, sequenceOf, uniqueSuffix, waitFor, type TestKafka } from '@wa/testing';
import {
  ConsumerHost,
  dlqTopicName,
  EventProducer,
  NonRetriableError,
  RETRY_HEADERS,
  type BatchItem,
  type DeadLetterEvent,
} from '@wa/kafka';

const quiet = pino({ level: 'silent' });

const seqOf = (item: BatchItem) => sequenceOf(item.envelope.data);

describe('ConsumerHost batch handlers against the real broker', () => {
  let tk: TestKafka;
  let producer: EventProducer;
  const hosts: ConsumerHost[] = [];

  const host = (groupId: string) => {
    const h = new ConsumerHost(tk.kafka, tk.options, producer, {
      groupId,
      logger: quiet,
      partitionsConsumedConcurrently: 3,
      retry: { inlineAttempts: 2, inlineBackoffMs: 10, retryDelaysMs: [200] },
    });
    hosts.push(h);
    return h;
  };

  beforeAll(async () => {
    tk = await createTestKafka('batch');
    producer = new EventProducer(tk.kafka, tk.options, '/tests/consumer-host-batch');
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)));
    await producer.disconnect();
    await tk.cleanup();
  });

  it('hands over records in chunks, each record once, in per-key order', async () => {
    const tenant = `order-${uniqueSuffix()}`.slice(0, 30);
    const sizes: number[] = [];
    const seen = new Map<string, number[]>();
    const h = host(`batch-order-${uniqueSuffix()}`);
    h.registerBatch(
      Topics.citizenConsent,
      async (items) => {
        sizes.push(items.length);
        for (const item of items) {
          if (item.envelope.tenantId !== tenant) continue;
          const key = (item.envelope.data as CitizenConsentV1).contact.waId!;
          seen.set(key, [...(seen.get(key) ?? []), seqOf(item)]);
        }
      },
      { maxBatchSize: 50 },
    );
    const keys = Array.from({ length: 12 }, (_, i) => `57355${String(i).padStart(4, '0')}`);
    const total = 600;
    // Published before the consumer starts, so fetches return full batches.
    await Promise.all(
      Array.from({ length: total }, (_, seq) => producer.publish(Topics.citizenConsent, sequencedConsent(tenant, keys[seq % 12], seq))),
    );
    await h.start();
    await waitFor(() => [...seen.values()].reduce((n, l) => n + l.length, 0) >= total, { what: 'all records', timeoutMs: 60000 });
    expect([...seen.values()].reduce((n, l) => n + l.length, 0)).toBe(total);
    for (const [key, seqs] of seen) expect({ key, seqs }).toEqual({ key, seqs: [...seqs].sort((a, b) => a - b) });
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(50);
  });

  it('dead-letters invalid records one by one, tells the listener, and hands over the valid ones', async () => {
    const tenant = `inv-${uniqueSuffix()}`.slice(0, 30);
    const group = `batch-invalid-${uniqueSuffix()}`;
    const handled: number[] = [];
    const told: DeadLetterEvent[] = [];
    const h = host(group);
    h.registerBatch(Topics.citizenConsent, async (items) => {
      for (const item of items) if (item.envelope.tenantId === tenant) handled.push(seqOf(item));
    });
    h.onDeadLetter((event) => told.push(event));
    h.onDeadLetter(() => {
      throw new Error('a broken listener must not break the DLQ path');
    });
    await h.start();
    const dlq = await tk.collect(dlqTopicName(group));
    const raw = tk.kafka.producer();
    await raw.connect();
    const headers = () => ({ [CE.id]: randomUUID(), [CE.type]: 'citizen.consent.v1', [CE.source]: '/tests', [CE.tenant]: tenant });
    const good = (seq: number) => ({ key: 'k', value: JSON.stringify(sequencedConsent(tenant, '57366', seq)), headers: headers() });
    await raw.send({
      topic: `${tk.prefix}${Topics.citizenConsent.name}`,
      messages: [
        good(1),
        good(2),
        { key: 'k', value: JSON.stringify({ tenantId: tenant, contact: {}, category: 'never' }), headers: headers() },
        good(3),
        { key: 'k', value: '{oops', headers: headers() },
        good(4),
      ],
    });
    await raw.disconnect();
    await waitFor(() => handled.length === 4, { what: 'the four valid records' });
    expect(handled).toEqual([1, 2, 3, 4]);
    await waitFor(() => dlq.records.length === 2, { what: 'two DLQ records' });
    expect(dlq.records.map((r) => r.headers[RETRY_HEADERS.reason])).toEqual(['invalid-payload', 'not-json']);
    expect(told.map((t) => [t.topic, t.reason, t.headers[CE.tenant]])).toEqual([
      [Topics.citizenConsent.name, 'invalid-payload', tenant],
      [Topics.citizenConsent.name, 'not-json', tenant],
    ]);
    expect(told[0].error).toContain('category');
  });

  it('replays a failed batch record by record, so only the poison record is dead-lettered', async () => {
    const tenant = `poison-${uniqueSuffix()}`.slice(0, 30);
    const group = `batch-poison-${uniqueSuffix()}`;
    const applied = new Set<number>();
    const batchSizes: number[] = [];
    let transientLeft = 1;
    const h = host(group);
    h.registerBatch(Topics.citizenConsent, async (items) => {
      const mine = items.filter((i) => i.envelope.tenantId === tenant);
      if (!mine.length) return;
      batchSizes.push(mine.length);
      // All-or-nothing like a database transaction: a bad record fails the whole call.
      if (mine.some((i) => seqOf(i) === 13)) throw new NonRetriableError('record 13 breaks a business rule');
      if (mine.some((i) => seqOf(i) === 7) && transientLeft-- > 0) throw new Error('transient');
      for (const item of mine) applied.add(seqOf(item));
    });
    await h.start();
    const dlq = await tk.collect(dlqTopicName(group));
    // Concurrent publishes share one produce request (same key, so one partition, in order).
    await Promise.all(
      Array.from({ length: 20 }, (_, seq) => producer.publish(Topics.citizenConsent, sequencedConsent(tenant, '57377', seq))),
    );
    await waitFor(() => applied.size === 19, { what: 'every record but the poison one', timeoutMs: 30000 });
    expect([...applied].sort((a, b) => a - b)).toEqual([...Array(20).keys()].filter((s) => s !== 13));
    expect(Math.max(...batchSizes)).toBeGreaterThan(1);
    // The group reads the topic from the beginning, so it also dead-letters the earlier tests' bad records.
    const mine = () => dlq.records.filter((r) => r.headers[CE.tenant] === tenant);
    await waitFor(() => mine().length === 1, { what: 'the poison record in the DLQ' });
    expect(JSON.parse(mine()[0].value!).channel).toBe('seq-13');
    expect(mine()[0].headers[RETRY_HEADERS.reason]).toBe('non-retriable');
  });
});
