import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { CE, Topics, type CitizenConsentV1, type EventEnvelope } from '@wa/contracts';
import { ConsumerHost, EventProducer, NonRetriableError, RETRY_HEADERS, dlqTopicName, type RecordContext } from '@wa/kafka';
import { createTestKafka, sequencedConsent, sequenceOf, sleep, uniqueSuffix, waitFor, type TestKafka } from '@wa/testing';

const quiet = pino({ level: 'silent' });

const seqOf = (env: EventEnvelope) => sequenceOf(env.data);

describe('ConsumerHost against the real broker', () => {
  let tk: TestKafka;
  let producer: EventProducer;
  const hosts: ConsumerHost[] = [];

  const host = (groupId: string, extra: Partial<ConstructorParameters<typeof ConsumerHost>[3]> = {}) => {
    const h = new ConsumerHost(tk.kafka, tk.options, producer, {
      groupId,
      logger: quiet,
      partitionsConsumedConcurrently: 3,
      retry: { inlineAttempts: 3, inlineBackoffMs: 10, retryDelaysMs: [300, 300] },
      ...extra,
    });
    hosts.push(h);
    return h;
  };

  beforeAll(async () => {
    tk = await createTestKafka('consumer');
    producer = new EventProducer(tk.kafka, tk.options, '/tests/consumer-host');
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)));
    await producer.disconnect();
    await tk.cleanup();
  });

  it('keeps per-key order while processing partitions concurrently', async () => {
    const seen = new Map<string, number[]>();
    let active = 0;
    let maxActive = 0;
    const h = host(`order-${uniqueSuffix()}`);
    h.register(Topics.citizenConsent, async (env) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(Math.random() * 3);
      const key = (env.data as CitizenConsentV1).contact.waId!;
      seen.set(key, [...(seen.get(key) ?? []), seqOf(env)]);
      active--;
    });
    const keys = Array.from({ length: 24 }, (_, i) => `5715550${String(i).padStart(4, '0')}`);
    const total = 480;
    await Promise.all(
      Array.from({ length: total }, (_, seq) =>
        producer.publish(Topics.citizenConsent, sequencedConsent('roads-agency', keys[seq % keys.length], seq)),
      ),
    );
    await h.start();
    await waitFor(() => [...seen.values()].reduce((n, l) => n + l.length, 0) >= total, { what: 'all records', timeoutMs: 60000 });
    for (const [key, seqs] of seen) {
      expect({ key, seqs }).toEqual({ key, seqs: [...seqs].sort((a, b) => a - b) });
    }
    expect(maxActive).toBeGreaterThan(1);
  });

  it('resumes after a restart mid-stream without losing records', async () => {
    const group = `restart-${uniqueSuffix()}`;
    const seen = new Set<number>();
    const handler = async (env: EventEnvelope) => {
      await sleep(2);
      seen.add(seqOf(env));
    };
    const first = host(group);
    first.register(Topics.citizenConsent, handler);
    const tenant = `restart-${uniqueSuffix()}`.slice(0, 30);
    const total = 400;
    const publishAll = Promise.all(
      Array.from({ length: total }, (_, seq) =>
        producer.publish(Topics.citizenConsent, sequencedConsent(tenant, `57300${seq % 7}`, seq, seq % 2 ? 'opted_in' : 'opted_out')),
      ),
    );
    // The group also sees the first test's records; count only this tenant's.
    const mine = (env: EventEnvelope) => env.tenantId === tenant;
    first['handlers'].get(Topics.citizenConsent.name)!.handle = async (env) => (mine(env) ? handler(env) : undefined);
    await first.start();
    await publishAll;
    await waitFor(() => seen.size > 50, { what: 'some progress' });
    await first.stop();
    const atStop = seen.size;
    expect(atStop).toBeLessThan(total);

    const second = host(group);
    second.register(Topics.citizenConsent, async (env) => (mine(env) ? handler(env) : undefined));
    await second.start();
    await waitFor(() => seen.size === total, { what: `all ${total} after restart (had ${atStop})`, timeoutMs: 60000 });
  });

  it('retries a transient failure in place and through the retry topic until it succeeds', async () => {
    const tenant = `retry-${uniqueSuffix()}`.slice(0, 30);
    const calls = new Map<string, number>();
    const done: { id: string; attempt: number }[] = [];
    const h = host(`retry-${uniqueSuffix()}`);
    h.register(Topics.citizenConsent, async (env, record: RecordContext) => {
      if (env.tenantId !== tenant) return;
      const n = (calls.get(env.id) ?? 0) + 1;
      calls.set(env.id, n);
      const failuresWanted = sequenceOf(env.data);
      if (n <= failuresWanted) throw new Error(`transient failure ${n}`);
      done.push({ id: env.id, attempt: record.attempt });
    });
    await h.start();
    await producer.publish(Topics.citizenConsent, sequencedConsent(tenant, '5730001', 2), { id: 'aaaaaaaa-0000-4000-8000-000000000002' });
    await producer.publish(Topics.citizenConsent, sequencedConsent(tenant, '5730002', 4), { id: 'aaaaaaaa-0000-4000-8000-000000000004' });
    await waitFor(() => done.length === 2, { what: 'both records to succeed', timeoutMs: 30000 });
    const byId = Object.fromEntries(done.map((d) => [d.id, d.attempt]));
    expect(byId['aaaaaaaa-0000-4000-8000-000000000002']).toBe(1); // third inline try
    expect(byId['aaaaaaaa-0000-4000-8000-000000000004']).toBe(2); // first pass through the retry topic
    expect(calls.get('aaaaaaaa-0000-4000-8000-000000000004')).toBe(5);
  });

  it('dead-letters a record that always fails, with the reason, and keeps the partition flowing', async () => {
    const tenant = `dlq-${uniqueSuffix()}`.slice(0, 30);
    const group = `dlq-${uniqueSuffix()}`;
    const handled: number[] = [];
    const h = host(group);
    h.register(Topics.citizenConsent, async (env) => {
      if (env.tenantId !== tenant) return;
      const seq = seqOf(env);
      if (seq === 0) throw new Error('downstream always broken');
      if (seq === 1) throw new NonRetriableError('bad business data');
      handled.push(seq);
    });
    await h.start();
    const dlq = await tk.collect(dlqTopicName(group));
    // Same key: all three land on one partition, in order.
    for (const seq of [0, 1, 2, 3]) await producer.publish(Topics.citizenConsent, sequencedConsent(tenant, '5730009', seq));
    await waitFor(() => handled.length === 2, { what: 'later records to flow' });
    expect(handled).toEqual([2, 3]);
    await waitFor(() => dlq.records.length === 2, { what: 'two DLQ records', timeoutMs: 30000 });
    const byReason = Object.fromEntries(dlq.records.map((r) => [r.headers[RETRY_HEADERS.reason], r]));
    expect(Object.keys(byReason).sort()).toEqual(['non-retriable', 'retries-exhausted']);
    const exhausted = byReason['retries-exhausted'];
    expect(exhausted.headers[RETRY_HEADERS.originalTopic]).toBe(Topics.citizenConsent.name);
    expect(exhausted.headers[RETRY_HEADERS.error]).toContain('downstream always broken');
    expect(exhausted.headers[RETRY_HEADERS.attempt]).toBe('3');
    expect(Number(exhausted.headers[RETRY_HEADERS.originalPartition])).toBeGreaterThanOrEqual(0);
    expect(exhausted.headers[RETRY_HEADERS.originalOffset]).toMatch(/^\d+$/);
    expect(byReason['non-retriable'].headers[RETRY_HEADERS.attempt]).toBe('1');
    expect(JSON.parse(exhausted.value!).tenantId).toBe(tenant);
  });

  it('sends invalid, unknown-version and non-JSON records to the DLQ without stopping', async () => {
    const tenant = `bad-${uniqueSuffix()}`.slice(0, 30);
    const group = `invalid-${uniqueSuffix()}`;
    const handled: number[] = [];
    const h = host(group);
    h.register(Topics.citizenConsent, async (env) => {
      if (env.tenantId === tenant) handled.push(seqOf(env));
    });
    await h.start();
    const dlq = await tk.collect(dlqTopicName(group));
    const raw = tk.kafka.producer();
    await raw.connect();
    const headers = (type: string) => ({
      [CE.id]: randomUUID(),
      [CE.type]: type,
      [CE.source]: '/tests',
      [CE.tenant]: tenant,
      [CE.specversion]: '1.0',
    });
    const topic = `${tk.prefix}${Topics.citizenConsent.name}`;
    await raw.send({
      topic,
      messages: [
        {
          key: 'k',
          value: JSON.stringify({ tenantId: tenant, contact: {}, category: 'sometimes' }),
          headers: headers('citizen.consent.v1'),
        },
        { key: 'k', value: JSON.stringify(sequencedConsent(tenant, '57311', 0)), headers: headers('citizen.consent.v9') },
        { key: 'k', value: '{not json', headers: headers('citizen.consent.v1') },
        { key: 'k', value: JSON.stringify(sequencedConsent(tenant, '57311', 0)), headers: {} },
        { key: 'k', value: JSON.stringify(sequencedConsent(tenant, '57311', 7)), headers: headers('citizen.consent.v1') },
      ],
    });
    await raw.disconnect();
    await waitFor(() => handled.length === 1, { what: 'the valid record after the bad ones' });
    expect(handled).toEqual([7]);
    await waitFor(() => dlq.records.length === 4, { what: 'four DLQ records' });
    const reasons = dlq.records.map((r) => r.headers[RETRY_HEADERS.reason]);
    expect(reasons).toEqual(['invalid-payload', 'unknown-type', 'not-json', 'missing-header']);
    expect(dlq.records[0].headers[RETRY_HEADERS.error]).toContain('category');
  });

  it('stops fetching a paused topic (back-pressure), resumes on demand, and reports the lag meanwhile', async () => {
    const tenant = `pause-${uniqueSuffix()}`.slice(0, 30);
    const handled: number[] = [];
    const h = host(`pause-${uniqueSuffix()}`, { lagSampleIntervalMs: 0 });
    h.register(Topics.citizenConsent, async (env) => {
      if (env.tenantId === tenant) handled.push(seqOf(env));
    });
    await h.start();
    await producer.publish(Topics.citizenConsent, sequencedConsent(tenant, '5730077', 0));
    await waitFor(() => handled.length === 1, { what: 'first record' });
    h.pause(Topics.citizenConsent.name);
    for (const seq of [1, 2, 3]) await producer.publish(Topics.citizenConsent, sequencedConsent(tenant, '5730077', seq));
    await sleep(2500);
    expect(handled).toEqual([0]);
    const lag = await waitFor(
      async () => {
        const sample = await h.sampleLag();
        const total = Object.entries(sample)
          .filter(([k]) => k.startsWith(Topics.citizenConsent.name))
          .reduce((n, [, v]) => n + v, 0);
        return total >= 3 ? total : undefined;
      },
      { what: 'lag to show the paused records' },
    );
    expect(lag).toBeGreaterThanOrEqual(3);
    h.resume(Topics.citizenConsent.name);
    await waitFor(() => handled.length === 4, { what: 'paused records after resume' });
    expect(handled).toEqual([0, 1, 2, 3]);
  });
});
