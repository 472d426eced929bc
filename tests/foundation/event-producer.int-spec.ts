import { Topics, type CitizenConsentV1 } from '@wa/contracts';
import { Partitioners } from 'kafkajs';
import { EventProducer, type ProducerTuning } from '@wa/kafka';
import { createTestKafka, sequencedConsent, sequenceOf, waitFor, type Collected, type TestKafka } from '@wa/testing';

/** Counts how many produce requests the producer's client library has outstanding at most. */
function trackConcurrency(producer: EventProducer): { peak: () => number; requests: () => number } {
  const wire = (producer as unknown as { wire: { send: (...args: unknown[]) => Promise<unknown> } }).wire;
  const original = wire.send.bind(wire);
  let current = 0;
  let peak = 0;
  let requests = 0;
  wire.send = async (...args: unknown[]) => {
    current++;
    requests++;
    peak = Math.max(peak, current);
    try {
      return await original(...args);
    } finally {
      current--;
    }
  };
  return { peak: () => peak, requests: () => requests };
}

describe('EventProducer against the real broker', () => {
  let tk: TestKafka;

  beforeAll(async () => {
    tk = await createTestKafka('producer');
  });

  afterAll(async () => {
    await tk.cleanup();
  });

  /**
   * A fresh producer publishes `citizens` x `perCitizen` consent events spread over several ticks,
   * as HTTP requests arrive, so batches form while others are in flight; returns what the client
   * library saw and the events (and records) as they landed on the topic.
   */
  async function publishConcurrently(
    tuning: ProducerTuning,
    prefix: string,
    citizens: number,
    perCitizen: number,
  ): Promise<{ peak: number; requests: number; landed: CitizenConsentV1[]; records: Collected[] }> {
    const producer = new EventProducer(tk.kafka, tk.options, '/tests/producer', tuning);
    await producer.connect();
    const seen = trackConcurrency(producer);
    const collector = await tk.collect(Topics.citizenConsent.name);
    try {
      const sends: Promise<void>[] = [];
      for (let seq = 0; seq < perCitizen; seq++) {
        for (let c = 0; c < citizens; c++)
          sends.push(producer.publish(Topics.citizenConsent, sequencedConsent('roads-agency', `${prefix}${1000 + c}`, seq)));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(sends);
      const total = citizens * perCitizen;
      const mine = () => collector.records.filter((r) => r.value!.includes(`"${prefix}`));
      const records = await waitFor(() => (mine().length >= total ? mine() : undefined));
      const landed = records.map((r) => JSON.parse(r.value!) as CitizenConsentV1);
      return { peak: seen.peak(), requests: seen.requests(), landed, records };
    } finally {
      await collector.stop();
      // Waits for the requests still in flight before closing.
      await producer.disconnect();
    }
  }

  it('is idempotent with one request in flight: concurrent callers share requests and keep per-key order', async () => {
    const { peak, requests, landed } = await publishConcurrently({}, '5730000', 20, 25);
    expect(peak).toBe(1);
    expect(requests).toBeLessThan(500);
    expect(landed).toHaveLength(500);
    const byCitizen = new Map<string, number[]>();
    for (const data of landed) byCitizen.set(data.contact.waId!, [...(byCitizen.get(data.contact.waId!) ?? []), sequenceOf(data)]);
    for (const seqs of byCitizen.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('keeps several requests in flight when asked, and every acknowledged record is on the topic', async () => {
    const { peak, landed } = await publishConcurrently({ maxInFlightRequests: 4 }, '5731000', 40, 30);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);
    expect(landed).toHaveLength(1200);
    expect(new Set(landed.map((data) => `${data.contact.waId}:${data.channel}`)).size).toBe(1200);
  });

  it('merges queued records into requests up to about 900 KB, counting UTF-8 bytes exactly near the limit', async () => {
    for (const client of ['kafkajs', 'platformatic'] as const) {
      const producer = new EventProducer(tk.kafka, tk.options, '/tests/producer', { client, maxInFlightRequests: 4 });
      await producer.connect();
      const seen = trackConcurrency(producer);
      try {
        // Six 300 KB values queued in one tick: three fit under the limit. Arabic letters are two
        // UTF-8 bytes each, so 150,000 of them weigh as much as 300,000 ASCII characters.
        const values = [...Array(3).fill('a'.repeat(300_000)), ...Array(3).fill('\u0645'.repeat(150_000))] as string[];
        await producer.send(
          values.map((value, i) => ({ topic: Topics.citizenConsent.name, key: `big-${client}-${i}`, value, headers: {} })),
        );
        expect(seen.requests()).toBe(2);
      } finally {
        await producer.disconnect();
      }
    }
  });

  describe('on the platformatic client (the webhook edge)', () => {
    let viaKafkajs: Collected[];
    let viaPlatformatic: Collected[];
    let peak: number;

    beforeAll(async () => {
      viaKafkajs = (await publishConcurrently({ maxInFlightRequests: 4 }, '5732000', 60, 10)).records;
      const run = await publishConcurrently({ maxInFlightRequests: 4, client: 'platformatic' }, '5733000', 60, 10);
      viaPlatformatic = run.records;
      peak = run.peak;
    });

    it('keeps at most the asked requests in flight, and every acknowledged record is on the topic', () => {
      expect(peak).toBeGreaterThan(1);
      expect(peak).toBeLessThanOrEqual(4);
      expect(viaPlatformatic).toHaveLength(600);
      const events = viaPlatformatic.map((r) => JSON.parse(r.value!) as CitizenConsentV1);
      expect(new Set(events.map((data) => `${data.contact.waId}:${data.channel}`)).size).toBe(600);
    });

    it('writes the same envelope as the default client: key and CloudEvents headers', () => {
      const [record] = viaPlatformatic;
      const data = JSON.parse(record.value!) as CitizenConsentV1;
      expect(record.key).toBe(`roads-agency:${data.contact.waId}`);
      expect(record.headers).toEqual(
        expect.objectContaining({
          ce_specversion: '1.0',
          ce_type: 'citizen.consent.v1',
          ce_source: '/tests/producer',
          ce_tenant: 'roads-agency',
          'content-type': 'application/json',
        }),
      );
      expect(Object.keys(record.headers).sort()).toEqual(Object.keys(viaKafkajs[0].headers).sort());
    });

    it('publishes to partitions created a moment ago, whose leader it learns from the error', async () => {
      // A partition's first moments: the broker answers NOT_LEADER_OR_FOLLOWER with the leader in
      // tagged fields (Kafka 4). The client's own reader of them misparsed the response ("Out of
      // bounds") and failed 8 of 10 such sends, so a leader move cost the webhook edge 503s until
      // the metadata expired; with the reader patched (platformatic-tagged-fields.ts) it retries.
      const admin = tk.kafka.admin();
      await admin.connect();
      const producer = new EventProducer(tk.kafka, tk.options, '/tests/producer', { client: 'platformatic' });
      await producer.connect();
      try {
        const topics = ['fresh-leader-a', 'fresh-leader-b', 'fresh-leader-c'];
        const keys = Array.from({ length: 24 }, (_, i) => `citizen-${i}`);
        for (const topic of topics) {
          await admin.createTopics({ topics: [{ topic: `${tk.prefix}${topic}`, numPartitions: 12 }], waitForLeaders: false });
          await producer.send(keys.map((key) => ({ topic, key, value: key, headers: {} })));
        }
        // Every record is there. Some may be twice: the client retries a whole request when only
        // some of its partitions failed, and it is not idempotent (the raw topic's consumers dedupe).
        const collectors = await Promise.all(topics.map((topic) => tk.collect(topic)));
        try {
          for (const collector of collectors) {
            const landed = await waitFor(() => {
              const seen = new Set(collector.records.map((r) => r.key));
              return seen.size === keys.length ? seen : undefined;
            });
            expect([...landed].sort()).toEqual([...keys].sort());
          }
        } finally {
          await Promise.all(collectors.map((c) => c.stop()));
        }
      } finally {
        await producer.disconnect();
        await admin.disconnect();
      }
    });

    it("puts every key on the partition the Java client's partitioner picks, as kafkajs does", () => {
      const javaPartitioner = Partitioners.DefaultPartitioner();
      const partitionMetadata = [0, 1, 2].map((partitionId) => ({
        partitionId,
        partitionErrorCode: 0,
        leader: 1,
        replicas: [1],
        isr: [1],
      }));
      const javaPartitionOf = (key: string) => javaPartitioner({ topic: 'any', partitionMetadata, message: { key, value: null } });
      for (const records of [viaKafkajs, viaPlatformatic]) {
        const landed = new Map(records.map((r) => [r.key!, r.partition]));
        expect(landed.size).toBe(60);
        expect(new Set(landed.values()).size).toBe(3);
        expect([...landed]).toEqual([...landed].map(([key]) => [key, javaPartitionOf(key)]));
      }
    });
  });
});
