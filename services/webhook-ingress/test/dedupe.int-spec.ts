import { Client } from 'pg';
import { Topics, type InboundMessageV1, type MessageStatusV1 } from '@wa/contracts';
import { createTestDatabase, createTestKafka, sleep, waitFor, type Collector, type TestDatabase, type TestKafka } from '@wa/testing';
import { ingressService } from '../src/service';
import { events, postSigned, roadsWebhook, startIngress } from './support/harness';

const postStatus = async (baseUrl: string, body: string): Promise<number> => (await postSigned(baseUrl, body)).status;

describe('one downstream event per wamid and per (wamid, status), across restarts and replicas', () => {
  let tk: TestKafka;
  let db: TestDatabase;
  let inbound: Collector;
  let statuses: Collector;
  let pg: Client;

  beforeAll(async () => {
    tk = await createTestKafka('dedupe');
    db = await createTestDatabase(['ingress']);
    inbound = await tk.collect(Topics.inboundMessage.name);
    statuses = await tk.collect(Topics.messageStatus.name);
  });

  afterAll(async () => {
    await pg?.end();
    await db?.drop();
    await tk?.cleanup();
  });

  const countOf = (wamid: string) => events<InboundMessageV1>(inbound.records).filter((e) => e.data.messageId === wamid).length;
  const statusCount = (wamid: string, status: string) =>
    events<MessageStatusV1>(statuses.records).filter((e) => e.data.messageId === wamid && e.data.status === status).length;
  const outboxDrained = async () => {
    pg ??= await (async () => {
      const client = new Client({ connectionString: db.appUrl('ingress') });
      await client.connect();
      return client;
    })();
    return (await pg.query('SELECT count(*)::int AS n FROM ingress.outbox WHERE published_at IS NULL')).rows[0].n === 0;
  };

  it('a webhook redelivered after a restart emits nothing new', async () => {
    const first = await startIngress(tk, { db, env: { LOG_LEVEL: 'error' } });
    const body = roadsWebhook(['wamid.RESTART1'], [['wamid.OURS1', 'delivered']]);
    expect(await postStatus(first.url, body)).toBe(200);
    await waitFor(() => countOf('wamid.RESTART1') === 1 && statusCount('wamid.OURS1', 'delivered') === 1, { timeoutMs: 60000 });
    await first.close();

    const second = await startIngress(tk, { db, env: { LOG_LEVEL: 'error' } });
    try {
      for (let i = 0; i < 3; i++) expect(await postStatus(second.url, body)).toBe(200);
      // A new status of the same message is a new event; a fresh message proves the replica is consuming.
      expect(await postStatus(second.url, roadsWebhook(['wamid.RESTART2'], [['wamid.OURS1', 'read']]))).toBe(200);
      await waitFor(() => countOf('wamid.RESTART2') === 1 && statusCount('wamid.OURS1', 'read') === 1, { timeoutMs: 60000 });
      await waitFor(outboxDrained, { timeoutMs: 30000 });
      await sleep(2000);
      expect(countOf('wamid.RESTART1')).toBe(1);
      expect(statusCount('wamid.OURS1', 'delivered')).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('two normalizers racing over the same records claim each key once', async () => {
    // Separate consumer groups: both replicas see every raw record, so each wamid is claimed twice, concurrently.
    const a = await startIngress(tk, { db, env: { LOG_LEVEL: 'error' } });
    const b = await startIngress(tk, {
      db,
      env: { LOG_LEVEL: 'error' },
      descriptor: { ...ingressService, consumerGroup: 'webhook-ingress-racer' },
    });
    try {
      const wamids = Array.from({ length: 40 }, (_, i) => `wamid.RACE${i}`);
      // Overlapping batches, posted to both replicas at once.
      const bodies = Array.from({ length: 8 }, (_, i) =>
        roadsWebhook(wamids.slice(i * 4, i * 4 + 12), [[`wamid.OURS.RACE${i % 3}`, 'sent']]),
      );
      const answers = await Promise.all(bodies.flatMap((body) => [postStatus(a.url, body), postStatus(b.url, body)]));
      expect(answers.every((s) => s === 200)).toBe(true);
      await waitFor(() => wamids.every((w) => countOf(w) >= 1), { timeoutMs: 90000, what: 'every raced wamid downstream' });
      await waitFor(outboxDrained, { timeoutMs: 30000 });
      await sleep(3000);
      expect(wamids.filter((w) => countOf(w) !== 1)).toEqual([]);
      expect([0, 1, 2].map((i) => statusCount(`wamid.OURS.RACE${i}`, 'sent'))).toEqual([1, 1, 1]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
