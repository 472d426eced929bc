import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { TenantRegistry } from '@wa/tenancy';
import type { SandboxContext } from '../sandbox-context';
import { buildSandbox } from '../server';
import { sandboxTemplates } from '../templates/template-store';
import { WebhookSender } from '../webhook-sender';
import { outboundSimulatorOf } from './messages.routes';
import type { OutboundSimulator } from './outbound-simulator';

const SECRETS = {
  ROADS_APP_SECRET: 'sandbox-roads-app-secret',
  ROADS_VERIFY_TOKEN: 'v',
  ROADS_ACCESS_TOKEN: 'roads-token',
  IMMIGRATION_APP_SECRET: 'sandbox-immigration-app-secret',
  IMMIGRATION_VERIFY_TOKEN: 'v',
  IMMIGRATION_ACCESS_TOKEN: 'immigration-token',
};
const PHONE = '310000000000001';
const AUTH = { authorization: 'Bearer roads-token', 'content-type': 'application/json' };

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: { entry: { changes: { value: { statuses: Record<string, unknown>[]; metadata: Record<string, string> } }[] }[] };
}

describe('sandbox: outbound messages like the Cloud API', () => {
  let app: FastifyInstance;
  let simulator: OutboundSimulator;
  let listener: Server;
  const received: Received[] = [];

  beforeAll(async () => {
    listener = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        received.push({ path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const ingress = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    const context: SandboxContext = {
      tenants: TenantRegistry.parse(
        (await import('node:fs')).readFileSync(`${__dirname}/../../../config/tenants.sandbox.yaml`, 'utf8'),
        SECRETS,
      ),
      webhooks: new WebhookSender(ingress),
      webhookPath: (appId) => `/webhooks/whatsapp/${appId}`,
    };
    app = await buildSandbox(context);
    simulator = outboundSimulatorOf(app);
    // The roads agency's WABA knows two approved templates (the templates part of the sandbox keeps them).
    const store = sandboxTemplates(context);
    for (const [name, language, text] of [
      ['x', 'es', 'Hola'],
      ['visa_notice', 'en', 'Your visa notice is ready.'],
      ['licence_expiry', 'es', 'Hola {{1}}, su licencia vence pronto.'],
    ]) {
      const id = store.newId();
      const now = new Date().toISOString();
      store.templates.set(id, {
        id,
        wabaId: '100000000000001',
        name,
        language,
        category: 'UTILITY',
        parameterFormat: 'positional',
        status: 'APPROVED',
        components: [{ type: 'BODY', text }],
        qualityScore: 'GREEN',
        createdAt: now,
        updatedAt: now,
      });
    }
  });
  afterAll(async () => {
    await app.close();
    await new Promise((r) => listener.close(r));
  });
  beforeEach(() => {
    simulator.reset();
    simulator.configure({ statuses: { enabled: false } });
    received.length = 0;
  });

  const send = (body: Record<string, unknown>, headers: Record<string, string> = AUTH, phone = PHONE) =>
    app.inject({ method: 'POST', url: `/v23.0/${phone}/messages`, headers, payload: body });
  const text = (to: string, extra: Record<string, unknown> = {}) => ({
    messaging_product: 'whatsapp',
    to,
    type: 'text',
    text: { body: 'Hola' },
    ...extra,
  });

  it('accepts a send with Meta’s response shape and records what the citizen receives', async () => {
    const response = await send(text('+57 300 111-2233', { biz_opaque_callback_data: 'req-1' }));
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toEqual({
      messaging_product: 'whatsapp',
      contacts: [{ input: '+57 300 111-2233', wa_id: '573001112233' }],
      messages: [{ id: expect.stringMatching(/^wamid\./) }],
    });
    const template = await send({
      messaging_product: 'whatsapp',
      to: '+573001112233',
      type: 'template',
      template: { name: 'x', language: { code: 'es' } },
    });
    expect(template.json().messages[0].message_status).toBe('accepted');
    const listed = (await app.inject({ method: 'GET', url: '/sandbox/messages?to=573001112233' })).json();
    expect(listed.messages.map((m: { type: string }) => m.type)).toEqual(['text', 'template']);
    expect(listed.messages[0]).toMatchObject({
      wamid: body.messages[0].id,
      bizOpaqueCallbackData: 'req-1',
      payload: { text: { body: 'Hola' } },
    });
  });

  it('posts signed status webhooks sent → delivered → read, escaped like Meta', async () => {
    simulator.configure({ statuses: { enabled: true, sentDelayMs: 10, deliveredDelayMs: 60, readDelayMs: 120, batchWindowMs: 5 } });
    const response = await send(text('+573001112233', { biz_opaque_callback_data: 'solicitud-ñ-✅' }));
    const wamid = response.json().messages[0].id;
    await waitUntil(() => received.length >= 3);
    for (const r of received) {
      expect(r.path).toBe('/webhooks/whatsapp/roads-app');
      const expected = `sha256=${createHmac('sha256', SECRETS.ROADS_APP_SECRET).update(r.raw).digest('hex')}`;
      expect(r.headers['x-hub-signature-256']).toBe(expected);
      expect(r.raw).not.toMatch(/[^\x00-\x7f]/); // non-ASCII goes out as \uXXXX, as Meta sends it
    }
    const statuses = received.map((r) => r.body.entry[0].changes[0].value.statuses[0]);
    expect(statuses.map((s) => s.status)).toEqual(['sent', 'delivered', 'read']);
    expect(statuses[0]).toMatchObject({
      id: wamid,
      recipient_id: '573001112233',
      biz_opaque_callback_data: 'solicitud-ñ-✅',
      pricing: { pricing_model: 'PMP' },
    });
    expect(statuses[2].pricing).toBeUndefined();
    expect(received[0].body.entry[0].changes[0].value.metadata).toEqual({ display_phone_number: '5716010100', phone_number_id: PHONE });
  });

  it('reports an injected asynchronous failure as a failed status with the error', async () => {
    simulator.configure({ statuses: { enabled: true, sentDelayMs: 10, batchWindowMs: 5 } });
    simulator.addRule({ code: 131049, recipient: '573001112244', mode: 'async' });
    const response = await send(text('+573001112244'));
    expect(response.statusCode).toBe(200);
    await waitUntil(() => received.length >= 1);
    const status = received[0].body.entry[0].changes[0].value.statuses[0];
    expect(status).toMatchObject({ status: 'failed', errors: [{ code: 131049, error_data: { details: expect.any(String) } }] });
  });

  it('answers invalid requests with Meta’s error shape and codes', async () => {
    const missing = await send({ messaging_product: 'whatsapp', type: 'text', text: { body: 'x' } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({
      error: {
        message: '(#100) The parameter to is required.',
        type: 'OAuthException',
        code: 100,
        error_data: { messaging_product: 'whatsapp', details: expect.any(String) },
        fbtrace_id: expect.any(String),
      },
    });
    const buttons = await send({
      messaging_product: 'whatsapp',
      to: '+573001112233',
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'x' },
        action: { buttons: [1, 2, 3, 4].map((i) => ({ type: 'reply', reply: { id: `b${i}`, title: `B${i}` } })) },
      },
    });
    expect(buttons.json().error).toMatchObject({ code: 131009, error_data: { details: expect.stringMatching(/between 1 and 3/) } });
    const list = await send({
      messaging_product: 'whatsapp',
      to: '+573001112233',
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: 'x' },
        action: { button: 'Ver', sections: [{ rows: Array.from({ length: 11 }, (_, i) => ({ id: `r${i}`, title: `R${i}` })) }] },
      },
    });
    expect(list.json().error).toMatchObject({ code: 131009 });
    expect(
      (await send(text('+573001112233'), { authorization: 'Bearer wrong', 'content-type': 'application/json' })).json().error.code,
    ).toBe(190);
    expect((await send(text('+573001112233'), AUTH, '399999999999999')).json().error.code).toBe(100);
    expect((await send({ ...text('+573001112233'), type: 'poll', poll: {} })).json().error.code).toBe(131051);
    expect(simulator.sent).toHaveLength(0);
  });

  it('holds each number to its throughput over a sliding second (130429)', async () => {
    simulator.configure({ rateLimits: { [PHONE]: 5 } });
    const codes = [];
    for (let i = 0; i < 7; i++) codes.push((await send(text(`+5730011100${i}0`))).json().error?.code ?? 'ok');
    expect(codes).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 130429, 130429]);
    expect(simulator.stats.rejected['130429']).toBe(2);
  });

  it('holds each citizen to the pair limit: a burst, then one per interval (131056)', async () => {
    simulator.configure({ pair: { burst: 2, intervalMs: 300 } });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await send(text('+573001119999'))).json().error?.code ?? 'ok');
    expect(codes).toEqual(['ok', 'ok', 131056]);
    expect((await send(text('+573001118888'))).json().error).toBeUndefined(); // another citizen is not affected
    await new Promise((r) => setTimeout(r, 350));
    expect((await send(text('+573001119999'))).json().error).toBeUndefined();
  });

  it('injects errors on demand: per template, per recipient, a number of times or a share of traffic', async () => {
    const create = await app.inject({
      method: 'POST',
      url: '/sandbox/messages/errors',
      payload: { code: 132001, template: 'visa_notice', times: 1 },
    });
    expect(create.statusCode).toBe(201);
    const t = {
      messaging_product: 'whatsapp',
      to: '+573001112233',
      type: 'template',
      template: { name: 'visa_notice', language: { code: 'en' } },
    };
    expect((await send(t)).json().error.code).toBe(132001);
    expect((await send(t)).json().messages).toHaveLength(1);
    await app.inject({ method: 'POST', url: '/sandbox/messages/errors', payload: { code: 131000, percentage: 100 } });
    const failed = await send(text('+573001112233'));
    expect(failed.statusCode).toBe(500);
    expect(failed.json().error.code).toBe(131000);
    await app.inject({ method: 'DELETE', url: '/sandbox/messages/errors' });
    await app.inject({ method: 'POST', url: '/sandbox/messages/errors', payload: { code: 131000, percentage: 0 } });
    expect((await send(text('+573001112233'))).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/sandbox/messages/errors', payload: { code: 'x' } })).statusCode).toBe(400);
  });

  it('checks template sends against the WABA’s templates like Meta (132001, 132000)', async () => {
    const template = (name: string, language: string, components?: unknown[]) => ({
      messaging_product: 'whatsapp',
      to: '+573001112233',
      type: 'template',
      template: { name, language: { code: language }, ...(components ? { components } : {}) },
    });
    expect((await send(template('nope', 'es'))).json().error.code).toBe(132001);
    expect((await send(template('x', 'fr'))).json().error.code).toBe(132001);
    expect((await send(template('licence_expiry', 'es'))).json().error.code).toBe(132000);
    const ok = await send(template('licence_expiry', 'es', [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }]));
    expect(ok.json().messages[0].message_status).toBe('accepted');
    simulator.configure({ checkTemplates: false });
    expect((await send(template('nope', 'es'))).statusCode).toBe(200);
  });

  it('fails numbers on the "not on WhatsApp" list with 131026', async () => {
    await app.inject({ method: 'POST', url: '/sandbox/messages/not-on-whatsapp', payload: { numbers: ['+57 300 000 0000'] } });
    const response = await send(text('+573000000000'));
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 131026, message: '(#131026) Message undeliverable' });
  });

  it('marks messages read (typing indicator) with {success: true}', async () => {
    const response = await send({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.IN1',
      typing_indicator: { type: 'text' },
    });
    expect(response.json()).toEqual({ success: true });
    expect(simulator.sent).toHaveLength(0);
  });

  it('uploads media (multipart) and refuses a file whose bytes are not its type (131053)', async () => {
    const upload = async (bytes: Buffer, type: string) => {
      const form = new FormData();
      form.set('messaging_product', 'whatsapp');
      form.set('type', type);
      form.set('file', new Blob([bytes], { type }), 'file');
      const request = new Request('http://x', { method: 'POST', body: form });
      return app.inject({
        method: 'POST',
        url: `/v23.0/${PHONE}/media`,
        headers: { authorization: 'Bearer roads-token', 'content-type': request.headers.get('content-type')! },
        payload: Buffer.from(await request.arrayBuffer()),
      });
    };
    const ok = await upload(Buffer.from('%PDF-1.4 checklist'), 'application/pdf');
    expect(ok.statusCode).toBe(200);
    expect(ok.json().id).toMatch(/^\d{16}$/);
    const wrong = await upload(Buffer.from('not a png'), 'image/png');
    expect(wrong.json().error.code).toBe(131053);
    const listed = (await app.inject({ method: 'GET', url: '/sandbox/uploaded-media' })).json();
    expect(listed.media).toEqual([expect.objectContaining({ id: ok.json().id, mimeType: 'application/pdf', phoneNumberId: PHONE })]);
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
