import { Client } from 'pg';
import { Topics, type InboundMessageV1, type MessageStatusV1 } from '@wa/contracts';
import { createTestDatabase, createTestKafka, sleep, waitFor, type Collector, type TestDatabase, type TestKafka } from '@wa/testing';
import { ingressService } from '../src/service';
import { signatureOf } from '../src/webhook/signature';
import { events, startIngress } from './support/harness';

const ROADS_SECRET = 'sandbox-roads-app-secret';

function webhook(wamids: string[], statuses: [string, string][] = []): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '100000000000001',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '5716010100', phone_number_id: '310000000000001' },
              contacts: [{ profile: { name: 'Ana' }, wa_id: '573001234567' }],
              messages: wamids.map((id) => ({ from: '573001234567', id, timestamp: '1767225600', type: 'text', text: { body: id } })),
              statuses: statuses.map(([id, status]) => ({ id, status, timestamp: '1767225700', recipient_id: '573001234567' })),
            },
          },
        ],
      },
    ],
  });
}

async function post(baseUrl: string, body: string): Promise<number> {
  const response = await fetch(`${baseUrl}/webhooks/whatsapp/roads-app`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signatureOf(ROADS_SECRET, body) },
    body,
  });
  return response.status;
}

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
    const body = webhook(['wamid.RESTART1'], [['wamid.OURS1', 'delivered']]);
    expect(await post(first.url, body)).toBe(200);
    await waitFor(() => countOf('wamid.RESTART1') === 1 && statusCount('wamid.OURS1', 'delivered') === 1, { timeoutMs: 60000 });
    await first.close();

    const second = await startIngress(tk, { db, env: { LOG_LEVEL: 'error' } });
    try {
      for (let i = 0; i < 3; i++) expect(await post(second.url, body)).toBe(200);
      // A new status of the same message is a new event; a fresh message proves the replica is consuming.
      expect(await post(second.url, webhook(['wamid.RESTART2'], [['wamid.OURS1', 'read']]))).toBe(200);
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
      const bodies = Array.from({ length: 8 }, (_, i) => webhook(wamids.slice(i * 4, i * 4 + 12), [[`wamid.OURS.RACE${i % 3}`, 'sent']]));
      const answers = await Promise.all(bodies.flatMap((body) => [post(a.url, body), post(b.url, body)]));
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
