/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { Client } from 'pg';
import { Topics, type WebhookQuarantineV1 } from '@wa/contracts';
import { createTestKafka, sleep, waitFor, type Collector, type TestKafka, type TestService } from '@wa/testing';
import { bearer, events, postSigned, startIngress } from './support/harness';
import { fixtureText } from './support/fixtures';

/** A receiver-only replica (INGRESS_CONSUMERS=false) that answers 400 to signed bad content (WEBHOOK_BAD_CONTENT_STATUS=400). */
describe('receiver options', () => {
  let tk: TestKafka;
  let ingress: TestService;
  let raw: Collector;
  let quarantine: Collector;

  beforeAll(async () => {
    tk = await createTestKafka('receiver');
    ingress = await startIngress(tk, { env: { INGRESS_CONSUMERS: 'false', WEBHOOK_BAD_CONTENT_STATUS: '400', LOG_LEVEL: 'error' } });
    raw = await tk.collect(Topics.webhookRaw.name);
    quarantine = await tk.collect(Topics.webhookQuarantine.name);
  });

  afterAll(async () => {
    await ingress?.close();
    await ingress?.db.drop();
    await tk?.cleanup();
  });

  const post = (body: string) => postSigned(ingress.url, body);

  it('answers 400 to signed bodies that are not JSON or not WhatsApp, once they are quarantined', async () => {
    const notJson = 'not json at all';
    const response = await post(notJson);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'not_json' });
    const page = await post('{"object":"instagram","entry":[]}');
    expect(page.status).toBe(400);
    expect(await page.json()).toMatchObject({ code: 'not_whatsapp' });
    const kept = await waitFor(() => {
      const q = events<WebhookQuarantineV1>(quarantine.records);
      return q.length === 2 ? q : undefined;
    });
    expect(kept.map((e) => e.data.reason).sort()).toEqual(['not-whatsapp', 'unparseable']);
    expect(raw.records).toHaveLength(0);
    const metrics = await (await fetch(`${ingress.url}/metrics`)).text();
    expect(metrics).toMatch(/webhook_requests_total\{[^}]*outcome="not_json"[^}]*\} 1/);
  });

  it('stores webhooks on Kafka but leaves normalizing to other replicas', async () => {
    expect((await post(fixtureText('text'))).status).toBe(200);
    await waitFor(() => raw.records.length === 1);
    await sleep(3000);
    const pg = new Client({ connectionString: ingress.db.appUrl('ingress') });
    await pg.connect();
    try {
      expect((await pg.query('SELECT count(*)::int AS n FROM ingress.raw_webhook')).rows[0].n).toBe(0);
      expect((await pg.query('SELECT count(*)::int AS n FROM ingress.webhook_dedupe')).rows[0].n).toBe(0);
    } finally {
      await pg.end();
    }
  });

  it('serves the media API, connecting to the database on its first request', async () => {
    const response = await fetch(`${ingress.url}/v1/media/never-fetched`, { headers: await bearer('roads-agency') });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'media_not_stored' });
  });
});
