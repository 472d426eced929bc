import fc from 'fast-check';
import { Topics, type WebhookQuarantineV1 } from '@wa/contracts';
import { createTestKafka, waitFor, type TestKafka, type TestService } from '@wa/testing';
import { signatureOf } from '../src/webhook/signature';
import { whatsappLike } from './support/arbitraries';
import { startIngress } from './support/harness';

const ROADS_SECRET = 'sandbox-roads-app-secret';

/** Any signed body, from random bytes to almost-WhatsApp payloads. */
const signedBody = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'binary', maxLength: 256 }).map((s) => Buffer.from(s)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  whatsappLike.map((v) => Buffer.from(JSON.stringify(v))),
);

describe('the webhook endpoint under arbitrary signed bodies', () => {
  let tk: TestKafka;
  let ingress: TestService;

  beforeAll(async () => {
    tk = await createTestKafka('ingress-prop');
    ingress = await startIngress(tk, { env: { LOG_LEVEL: 'error' } });
  });

  afterAll(async () => {
    await ingress?.close();
    await ingress?.db.drop();
    await tk?.cleanup();
  });

  async function highWatermark(topic: string): Promise<number> {
    const admin = tk.kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(`${tk.prefix}${topic}`)).reduce((sum, o) => sum + Number(o.high), 0);
    } finally {
      await admin.disconnect();
    }
  }

  it('answers 200 or a structured 5xx, never crashes, and stores exactly what it acknowledged', async () => {
    const rawBefore = await highWatermark(Topics.webhookRaw.name);
    const quarantine = await tk.collect(Topics.webhookQuarantine.name);
    const seen: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(signedBody, async (body) => {
        const response = await fetch(`${ingress.url}/webhooks/whatsapp/roads-app`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signatureOf(ROADS_SECRET, body) },
          body,
        });
        const text = await response.text();
        seen[response.status] = (seen[response.status] ?? 0) + 1;
        if (response.status === 200) {
          expect(text).toBe('');
        } else {
          expect([500, 502, 503]).toContain(response.status);
          expect(JSON.parse(text)).toEqual({ code: expect.any(String), message: expect.any(String) });
        }
      }),
      { numRuns: 300 },
    );
    expect((await fetch(`${ingress.url}/health/live`)).status).toBe(200);
    // Every 200 is either a raw record on Kafka or a quarantined body (signed, but not JSON or not
    // WhatsApp): nothing signed is lost. (The normalizer quarantines parts of accepted bodies too;
    // those name their raw record.)
    const stored = await highWatermark(Topics.webhookRaw.name);
    const refusedBodies = () =>
      quarantine.records.filter((r) => (JSON.parse(r.value ?? '{}') as WebhookQuarantineV1).rawEventId === undefined).length;
    await waitFor(() => stored - rawBefore + refusedBodies() >= (seen[200] ?? 0), { timeoutMs: 30000 });
    expect(stored - rawBefore + refusedBodies()).toBe(seen[200] ?? 0);
    expect(stored).toBeGreaterThan(rawBefore);
    expect(refusedBodies()).toBeGreaterThan(0);
  });
});
