import { Topics, type CitizenConsentV1 } from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { createTestKafka, sequencedConsent, sequenceOf, waitFor, type TestKafka } from '@wa/testing';

/** Counts how many produce requests the wrapped kafkajs producer has outstanding at most. */
function trackConcurrency(producer: EventProducer): { peak: () => number; requests: () => number } {
  const inner = (producer as unknown as { producer: { sendBatch: (...args: unknown[]) => Promise<unknown> } }).producer;
  const original = inner.sendBatch.bind(inner);
  let current = 0;
  let peak = 0;
  let requests = 0;
  inner.sendBatch = async (...args: unknown[]) => {
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

  async function publishConcurrently(producer: EventProducer, prefix: string, citizens: number, perCitizen: number): Promise<void> {
    const sends: Promise<void>[] = [];
    // Spread over several ticks, as HTTP requests arrive, so batches form while others are in flight.
    for (let seq = 0; seq < perCitizen; seq++) {
      for (let c = 0; c < citizens; c++)
        sends.push(producer.publish(Topics.citizenConsent, sequencedConsent('roads-agency', `${prefix}${1000 + c}`, seq)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(sends);
  }

  it('is idempotent with one request in flight: concurrent callers share requests and keep per-key order', async () => {
    const producer = new EventProducer(tk.kafka, tk.options, '/tests/producer');
    await producer.connect();
    const seen = trackConcurrency(producer);
    const collector = await tk.collect(Topics.citizenConsent.name);
    try {
      await publishConcurrently(producer, '5730000', 20, 25);
      expect(seen.peak()).toBe(1);
      expect(seen.requests()).toBeLessThan(500);
      const mine = () => collector.records.filter((r) => r.value!.includes('"5730000'));
      const records = await waitFor(() => (mine().length >= 500 ? mine() : undefined));
      expect(records).toHaveLength(500);
      const byCitizen = new Map<string, number[]>();
      for (const r of records) {
        const data = JSON.parse(r.value!) as CitizenConsentV1;
        byCitizen.set(data.contact.waId!, [...(byCitizen.get(data.contact.waId!) ?? []), sequenceOf(data)]);
      }
      for (const seqs of byCitizen.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    } finally {
      await collector.stop();
      await producer.disconnect();
    }
  });

  it('keeps several requests in flight when asked, and every acknowledged record is on the topic', async () => {
    const producer = new EventProducer(tk.kafka, tk.options, '/tests/producer', { maxInFlightRequests: 4 });
    await producer.connect();
    const seen = trackConcurrency(producer);
    const collector = await tk.collect(Topics.citizenConsent.name);
    try {
      await publishConcurrently(producer, '5731000', 40, 30);
      expect(seen.peak()).toBeGreaterThan(1);
      expect(seen.peak()).toBeLessThanOrEqual(4);
      const mine = () => collector.records.filter((r) => r.value!.includes('"5731000'));
      const records = await waitFor(() => (mine().length >= 1200 ? mine() : undefined));
      expect(records).toHaveLength(1200);
      const distinct = new Set(
        records.map((r) => {
          const data = JSON.parse(r.value!) as CitizenConsentV1;
          return `${data.contact.waId}:${data.channel}`;
        }),
      );
      expect(distinct.size).toBe(1200);
    } finally {
      await collector.stop();
      // Waits for the requests still in flight before closing.
      await producer.disconnect();
    }
  });
});
