import { Client } from 'pg';
import { Topics, UNROUTED_TENANT, type WebhookQuarantineV1, type WebhookRawV2 } from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { createTestKafka, startTestService, waitFor, type TestKafka, type TestService } from '@wa/testing';
import { AppModule } from '../src/app.module';
import { ingressService } from '../src/service';
import { signatureOf } from '../src/webhook/signature';
import { events, ROADS_SECRET, roadsWebhook } from './support/harness';

describe('a service booted as main.ts boots it', () => {
  let tk: TestKafka;
  let service: TestService;
  let producer: EventProducer;

  beforeAll(async () => {
    tk = await createTestKafka('boot');
    service = await startTestService(ingressService, (env) => AppModule.forRoot(env), tk);
    producer = new EventProducer(tk.kafka, tk.options, '/tests/boot');
    await producer.connect();
  });

  afterAll(async () => {
    await producer.disconnect();
    await service.close();
    await service.db.drop();
    await tk.cleanup();
  });

  it('is live and ready (Postgres, migrations, Kafka)', async () => {
    const live = await fetch(`${service.url}/health/live`);
    expect(live.status).toBe(200);
    const ready = (await (await fetch(`${service.url}/health/ready`)).json()) as { status: string; details: object };
    expect(ready.status).toBe('ok');
    expect(Object.keys(ready.details).sort()).toEqual(['kafka', 'migrations', 'postgres']);
  });

  it('serves Prometheus metrics and the OpenAPI document', async () => {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toContain('process_cpu_seconds_total');
    expect(metrics).toContain('http_request_duration_seconds');
    const docs = (await (await fetch(`${service.url}/docs`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(docs.openapi).toMatch(/^3\./);
    // The handshake is a Nest route; the POST a raw Fastify route, documented by hand.
    expect(Object.keys(docs.paths['/webhooks/whatsapp/{appId}']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(docs.paths['/webhooks/whatsapp/{appId}'].post.responses)).toEqual(
      expect.arrayContaining(['200', '401', '413', '415', '503']),
    );
  });

  it('answers unknown routes with the structured error shape', async () => {
    const response = await fetch(`${service.url}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'not_found', message: expect.any(String) });
  });

  it('consumes Kafka records: the raw topic consumer archives each ce_id once', async () => {
    const body = '{"object":"whatsapp_business_account","entry":[]}';
    const raw: WebhookRawV2 = {
      tenantId: 'roads-agency',
      appId: 'roads-app',
      receivedAt: new Date().toISOString(),
      body,
      signature: signatureOf(ROADS_SECRET, body),
    };
    await producer.publish(Topics.webhookRaw, raw, { id: '0b3c9f0e-3f7d-4b6a-9a56-1f1d2c3b4a50' });
    await producer.publish(Topics.webhookRaw, raw, { id: '0b3c9f0e-3f7d-4b6a-9a56-1f1d2c3b4a50' });
    const pg = new Client({ connectionString: service.db.appUrl('ingress') });
    await pg.connect();
    try {
      const rows = await waitFor(async () => {
        const r = await pg.query("SELECT event_id, body FROM ingress.raw_webhook WHERE event_id = '0b3c9f0e-3f7d-4b6a-9a56-1f1d2c3b4a50'");
        return r.rowCount ? r.rows : undefined;
      });
      expect(rows).toHaveLength(1);
      expect(rows[0].body).toBe(raw.body);
    } finally {
      await pg.end();
    }
  });

  it('trusts no raw record whose signature does not verify: quarantined whole, of no tenant, nothing normalized or archived', async () => {
    const quarantine = await tk.collect(Topics.webhookQuarantine.name);
    // Distinct bodies: quarantine records dedupe on (app, reason, body).
    const bodies = [roadsWebhook(['wamid.FORGED1']), roadsWebhook(['wamid.FORGED2']), roadsWebhook(['wamid.FORGED3'])];
    const forged = (body: string, signature: string, appId = 'roads-app'): WebhookRawV2 => ({
      tenantId: 'roads-agency',
      appId,
      receivedAt: new Date().toISOString(),
      body,
      signature,
    });
    const ids = ['5e0c1c7a-54a4-4f0b-9d8e-0a1b2c3d4e01', '5e0c1c7a-54a4-4f0b-9d8e-0a1b2c3d4e02', '5e0c1c7a-54a4-4f0b-9d8e-0a1b2c3d4e03'];
    // Signed with a secret that is not the app's; not signed at all; an app this ingress does not have.
    await producer.publish(Topics.webhookRaw, forged(bodies[0], signatureOf('an-attacker-chosen-secret', bodies[0])), { id: ids[0] });
    await producer.publish(Topics.webhookRaw, forged(bodies[1], ''), { id: ids[1] });
    await producer.publish(Topics.webhookRaw, forged(bodies[2], signatureOf(ROADS_SECRET, bodies[2]), 'ghost-app'), { id: ids[2] });
    const kept = await waitFor(() => {
      const q = events<WebhookQuarantineV1>(quarantine.records).filter((e) => ids.includes(e.data.rawEventId ?? ''));
      return q.length === 3 ? q : undefined;
    });
    for (const record of kept) {
      expect(record.data).toMatchObject({ tenantId: UNROUTED_TENANT, reason: 'signature-mismatch' });
      expect(record.data.body).toBe(bodies[ids.indexOf(record.data.rawEventId!)]);
    }
    expect(kept.map((r) => r.data.detail).sort()).toEqual([
      'no such app on this ingress',
      'signature mismatch for app roads-app',
      'signature missing for app roads-app',
    ]);
    const pg = new Client({ connectionString: service.db.appUrl('ingress') });
    await pg.connect();
    try {
      // Claims and outbox rows commit with the quarantine record: had the message been trusted, its key would be here.
      expect((await pg.query("SELECT count(*)::int AS n FROM ingress.webhook_dedupe WHERE kind = 'message'")).rows[0].n).toBe(0);
      expect((await pg.query('SELECT count(*)::int AS n FROM ingress.raw_webhook WHERE event_id = ANY($1)', [ids])).rows[0].n).toBe(0);
    } finally {
      await pg.end();
    }
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/webhook_raw_signature_mismatch_total\{[^}]*app="roads-app"[^}]*\} 2/);
    expect(metrics).toMatch(/webhook_raw_signature_mismatch_total\{[^}]*app="unknown"[^}]*\} 1/);
    expect(metrics).toMatch(/webhook_quarantined_total\{[^}]*tenant="unrouted",reason="signature-mismatch"[^}]*\} 3/);
  });
});
