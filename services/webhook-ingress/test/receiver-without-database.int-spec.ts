/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { Topics, type WebhookRawV2 } from '@wa/contracts';
import { createTestKafka, waitFor, type Collector, type TestKafka, type TestService } from '@wa/testing';
import { bearer, events, postSigned, roadsWebhook, startIngress } from './support/harness';

/** Nothing listens on port 1: every connection attempt is refused at once. */
const UNREACHABLE_DATABASE = 'postgres://ingress_app:nothing@127.0.0.1:1/nowhere';

/**
 * A receiver replica (INGRESS_CONSUMERS=false) needs Kafka only: the webhook path never touches
 * PostgreSQL, so a database outage or a migration must not stop Meta's webhooks.
 */
describe('a receiver replica without a reachable database', () => {
  let tk: TestKafka;
  let receiver: TestService;
  let raw: Collector;

  beforeAll(async () => {
    tk = await createTestKafka('receiver-nodb');
    receiver = await startIngress(tk, { env: { INGRESS_CONSUMERS: 'false', DATABASE_URL: UNREACHABLE_DATABASE, LOG_LEVEL: 'fatal' } });
    raw = await tk.collect(Topics.webhookRaw.name);
  });

  afterAll(async () => {
    await receiver?.close();
    await receiver?.db.drop();
    await tk?.cleanup();
  });

  it('starts and is ready with Kafka alone (no postgres or migrations check)', async () => {
    const ready = await fetch(`${receiver.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', details: { kafka: { status: 'up' } } });
    const details = ((await (await fetch(`${receiver.url}/health/ready`)).json()) as { details: object }).details;
    expect(Object.keys(details)).toEqual(['kafka']);
  });

  it('answers 200 to a signed webhook once Kafka holds it', async () => {
    const body = roadsWebhook(['wamid.NODB1']);
    const response = await postSigned(receiver.url, body);
    expect(response.status).toBe(200);
    const stored = await waitFor(() => events<WebhookRawV2>(raw.records).find((e) => e.data.body === body));
    expect(stored.data).toMatchObject({ tenantId: 'roads-agency', appId: 'roads-app' });
  });

  it('answers the media API with 503 while the database is unreachable, and keeps receiving', async () => {
    const response = await fetch(`${receiver.url}/v1/media/123456`, { headers: await bearer('roads-agency') });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: 'database_unavailable' });
    expect((await postSigned(receiver.url, roadsWebhook(['wamid.NODB2']))).status).toBe(200);
    expect((await fetch(`${receiver.url}/health/ready`)).status).toBe(200);
  });
});
