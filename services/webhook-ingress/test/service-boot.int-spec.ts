import { Client } from 'pg';
import { Topics, type WebhookRawV2 } from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { createTestKafka, startTestService, waitFor, type TestKafka, type TestService } from '@wa/testing';
import { AppModule } from '../src/app.module';
import { ingressService } from '../src/service';

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
    const raw: WebhookRawV2 = {
      tenantId: 'roads-agency',
      appId: 'roads-app',
      receivedAt: new Date().toISOString(),
      body: '{"object":"whatsapp_business_account","entry":[]}',
      signature: 'sha256=00',
    };
    await producer.publish(Topics.webhookRaw, raw, { id: '0b3c9f0e-3f7d-4b6a-9a56-1f1d2c3b4a50' });
    await producer.publish(Topics.webhookRaw, raw, { id: '0b3c9f0e-3f7d-4b6a-9a56-1f1d2c3b4a50' });
    const pg = new Client({ connectionString: service.db.appUrl('ingress') });
    await pg.connect();
    try {
      const rows = await waitFor(async () => {
        const r = await pg.query('SELECT event_id, body FROM ingress.raw_webhook');
        return r.rowCount ? r.rows : undefined;
      });
      expect(rows).toHaveLength(1);
      expect(rows[0].body).toBe(raw.body);
    } finally {
      await pg.end();
    }
  });
});
