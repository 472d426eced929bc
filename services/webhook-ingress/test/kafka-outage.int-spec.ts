import { Client } from 'pg';
import { Topics, type InboundMessageV1, type WebhookRawV2 } from '@wa/contracts';
import { createTestKafka, infraEnv, sleep, waitFor, type Collector, type TestKafka, type TestService } from '@wa/testing';
import { events, sandboxPost, startIngress, startSandbox, type Sandbox, postSigned, roadsWebhook } from './support/harness';
import { KafkaProxy } from './support/kafka-proxy';

/**
 * Kafka goes away and comes back, for this ingress only: it reaches the shared broker through a
 * proxy the test closes and reopens (the broker itself keeps serving everyone else).
 */
describe('webhook ingress when Kafka goes away and comes back', () => {
  let tk: TestKafka;
  let proxy: KafkaProxy;
  let ingress: TestService;
  let sandbox: Sandbox;
  let inbound: Collector;
  let raw: Collector;
  let pg: Client;

  beforeAll(async () => {
    tk = await createTestKafka('outage');
    const [host, port] = infraEnv().brokers[0].split(':');
    proxy = new KafkaProxy(host, Number(port));
    await proxy.start();
    // LOG_LEVEL fatal: kafkajs logs every refused reconnect during the outage, which is the point here.
    ingress = await startIngress(tk, { env: { KAFKA_BROKERS: proxy.address, WEBHOOK_DURABLE_TIMEOUT_MS: '2000', LOG_LEVEL: 'fatal' } });
    sandbox = await startSandbox(ingress.url);
    inbound = await tk.collect(Topics.inboundMessage.name);
    raw = await tk.collect(Topics.webhookRaw.name);
    pg = new Client({ connectionString: ingress.db.appUrl('ingress') });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await sandbox?.close();
    await proxy?.start().catch(() => undefined); // let the ingress shut down cleanly
    await ingress?.close();
    await proxy?.stop();
    await ingress?.db.drop();
    await tk?.cleanup();
  });

  const post = (body: string) => postSigned(ingress.url, body);
  const eventsFor = (wamid: string) => events<InboundMessageV1>(inbound.records).filter((e) => e.data.messageId === wamid);

  it('answers 503 quickly while Kafka is down; the sandbox’s retries then land exactly once downstream', async () => {
    // Through the proxy, all is well.
    expect((await post(roadsWebhook(['wamid.BEFORE']))).status).toBe(200);
    await waitFor(() => eventsFor('wamid.BEFORE').length === 1, { timeoutMs: 60000, what: 'the first message downstream' });

    await proxy.stop();

    // Direct POST: a fast, clean 503 (Meta retries), well under its timeout.
    const started = Date.now();
    const refused = await post(roadsWebhook(['wamid.DURING']));
    const elapsed = Date.now() - started;
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ code: 'unavailable', message: expect.any(String) });
    expect(elapsed).toBeLessThan(3500);

    // The sandbox delivers like Meta: non-200, back off, try again.
    const { status, json } = await sandboxPost(sandbox, '/sandbox/inbound/messages', {
      tenant: 'roads-agency',
      from: '+573001234567',
      type: 'text',
      text: 'llegará cuando vuelva Kafka',
      delivery: { wait: false, retries: 14, initialBackoffMs: 500 },
    });
    expect(status).toBe(202);
    const [wamid] = json.delivery.wamids;
    await sleep(5000);
    await proxy.start();

    const delivered = await waitFor(
      async () => {
        const state = (await (await fetch(`${sandbox.url}/sandbox/inbound/deliveries/${json.delivery.id}`)).json()) as {
          state: string;
          statuses: number[];
        };
        return state.state === 'pending' ? undefined : state;
      },
      { timeoutMs: 150000, intervalMs: 500, what: 'the sandbox to deliver after Kafka came back' },
    );
    expect(delivered.state).toBe('delivered');
    expect(delivered.statuses.at(-1)).toBe(200);
    expect(delivered.statuses.slice(0, -1).length).toBeGreaterThan(0);
    expect(delivered.statuses.slice(0, -1).every((s) => s === 503)).toBe(true);

    // Meta also redelivers the webhook refused above.
    expect((await post(roadsWebhook(['wamid.DURING']))).status).toBe(200);

    await waitFor(() => eventsFor(wamid).length > 0 && eventsFor('wamid.DURING').length > 0, {
      timeoutMs: 90000,
      what: 'both messages downstream',
    });
    // Everything the outage left in flight has settled: the producer's stalled batch (it may still
    // land) and the outbox.
    await waitFor(
      async () => (await pg.query('SELECT count(*)::int AS n FROM ingress.outbox WHERE published_at IS NULL')).rows[0].n === 0,
      {
        timeoutMs: 60000,
      },
    );
    await sleep(3000);
    expect(eventsFor(wamid)).toHaveLength(1);
    expect(eventsFor('wamid.DURING')).toHaveLength(1);
    expect(eventsFor('wamid.BEFORE')).toHaveLength(1);
    // Raw records may be duplicated by the outage (at-least-once); the events are not.
    const rawCopies = events<WebhookRawV2>(raw.records).filter((e) => e.data.body.includes('wamid.DURING'));
    expect(rawCopies.length).toBeGreaterThanOrEqual(1);
  }, 300000);
});
