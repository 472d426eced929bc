import { Topics, type CitizenConsentV1 } from '@wa/contracts';
import { EventProducer, type ProducerTuning } from '@wa/kafka';
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

  /**
   * A fresh producer publishes `citizens` x `perCitizen` consent events spread over several ticks,
   * as HTTP requests arrive, so batches form while others are in flight; returns what the kafkajs
   * producer saw and the events as they landed on the topic.
   */
  async function publishConcurrently(
    tuning: ProducerTuning,
    prefix: string,
    citizens: number,
    perCitizen: number,
  ): Promise<{ peak: number; requests: number; landed: CitizenConsentV1[] }> {
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
      return { peak: seen.peak(), requests: seen.requests(), landed: records.map((r) => JSON.parse(r.value!) as CitizenConsentV1) };
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
});
