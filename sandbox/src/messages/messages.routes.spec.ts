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

  /** The citizen writes to the number (injected through the sandbox, which delivers the webhook). */
  const citizenWrites = async (from: string, timestamp?: number) => {
    const injected = await app.inject({
      method: 'POST',
      url: '/sandbox/inbound/messages',
      payload: { phoneNumberId: PHONE, from, type: 'text', text: 'hola', ...(timestamp ? { timestamp } : {}) },
    });
    expect(injected.statusCode).toBe(200);
    received.length = 0; // the inbound webhook itself is not what these tests look at
  };
  const statusesOf = (r: Received) => r.body.entry[0].changes[0].value.statuses;

  it('posts signed status webhooks sent → delivered → read, escaped like Meta', async () => {
    simulator.configure({ statuses: { enabled: true, sentDelayMs: 10, deliveredDelayMs: 60, readDelayMs: 120, batchWindowMs: 5 } });
    await citizenWrites('+573001112233');
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

  it('accepts a free-form message to a citizen who never wrote, then fails it with 131047 (the 24-hour window)', async () => {
    simulator.configure({ statuses: { enabled: true, sentDelayMs: 10, batchWindowMs: 5 } });
    const response = await send(text('+573001110001'));
    expect(response.statusCode).toBe(200);
    const wamid = response.json().messages[0].id;
    await waitUntil(() => received.length >= 1);
    await new Promise((r) => setTimeout(r, 100)); // nothing else follows a failure
    expect(received).toHaveLength(1);
    expect(statusesOf(received[0])).toEqual([
      expect.objectContaining({
        id: wamid,
        status: 'failed',
        recipient_id: '573001110001',
        errors: [
          {
            code: 131047,
            title: 'Re-engagement message',
            message: 'Re-engagement message',
            error_data: {
              details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
            },
            href: expect.any(String),
          },
        ],
      }),
    ]);
    expect(simulator.get(wamid)?.failure).toEqual({ code: 131047, title: 'Re-engagement message' });
    // Every free-form type, not only text; templates are what a closed window allows.
    for (const body of [
      { messaging_product: 'whatsapp', to: '+573001110001', type: 'image', image: { link: 'https://x.example/a.png' } },
      { messaging_product: 'whatsapp', to: '+573001110001', type: 'location', location: { latitude: -33.45, longitude: -70.66 } },
      {
        messaging_product: 'whatsapp',
        to: '+573001110001',
        type: 'interactive',
        interactive: { type: 'button', body: { text: 'x' }, action: { buttons: [{ type: 'reply', reply: { id: 'a', title: 'A' } }] } },
      },
    ]) {
      const r = await send(body);
      expect(r.statusCode).toBe(200);
      expect(simulator.get(r.json().messages[0].id)?.failure?.code).toBe(131047);
    }
    const template = await send({
      messaging_product: 'whatsapp',
      to: '+573001110001',
      type: 'template',
      template: { name: 'x', language: { code: 'es' } },
    });
    expect(simulator.get(template.json().messages[0].id)?.failure).toBeUndefined();
  });

  it('opens the window when the citizen writes, per business number, for 24 hours', async () => {
    await citizenWrites('+573001110002');
    const inside = await send(text('+573001110002'));
    expect(simulator.get(inside.json().messages[0].id)?.failure).toBeUndefined();
    // The window is the number's: the immigration number never heard from this citizen.
    const other = await send(
      text('+573001110002'),
      { authorization: 'Bearer immigration-token', 'content-type': 'application/json' },
      '310000000000002',
    );
    expect(simulator.get(other.json().messages[0].id)?.failure?.code).toBe(131047);
    // A message written 25 hours ago no longer opens it.
    await citizenWrites('+573001110003', Math.floor(Date.now() / 1000) - 25 * 3600);
    const late = await send(text('+573001110003'));
    expect(simulator.get(late.json().messages[0].id)?.failure?.code).toBe(131047);
    // Mexican wa_ids carry a 1 the dialled number lacks: the same citizen, the same window.
    await citizenWrites('+5215512345678');
    const mexico = await send(text('+525512345678'));
    expect(simulator.get(mexico.json().messages[0].id)?.failure).toBeUndefined();
  });

  it('opens a window without a message through the control, and enforcement can be switched off', async () => {
    const opened = await app.inject({ method: 'POST', url: '/sandbox/windows', payload: { phoneNumberId: PHONE, waId: '573001110004' } });
    expect(opened.statusCode).toBe(201);
    expect(opened.json()).toMatchObject({ phoneNumberId: PHONE, waId: '573001110004', open: true });
    expect(simulator.get((await send(text('+573001110004'))).json().messages[0].id)?.failure).toBeUndefined();
    const past = await app.inject({
      method: 'POST',
      url: '/sandbox/windows',
      payload: { tenant: 'roads-agency', waId: '573001110005', at: new Date(Date.now() - 25 * 3600 * 1000).toISOString() },
    });
    expect(past.json()).toMatchObject({ phoneNumberId: PHONE, open: false });
    const listed = (await app.inject({ method: 'GET', url: '/sandbox/windows' })).json().windows;
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ citizen: '573001110004', open: true })]));
    for (const payload of [{ waId: '573001110004' }, { tenant: 'roads-agency' }, { tenant: 'roads-agency', waId: '5730', at: 'soon' }])
      expect((await app.inject({ method: 'POST', url: '/sandbox/windows', payload })).statusCode).toBe(400);
    expect((await app.inject({ method: 'DELETE', url: `/sandbox/windows?phoneNumberId=${PHONE}&waId=573001110004` })).json()).toEqual({
      closed: true,
    });
    expect(simulator.get((await send(text('+573001110004'))).json().messages[0].id)?.failure?.code).toBe(131047);

    simulator.configure({ enforceWindow: false });
    expect(simulator.get((await send(text('+573001110006'))).json().messages[0].id)?.failure).toBeUndefined();
  });

  it('a citizen’s list reply answers the list the business sent them (context from the sandbox’s records)', async () => {
    await citizenWrites('+573001110007');
    const list = await send({
      messaging_product: 'whatsapp',
      to: '+573001110007',
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: 'Elija' },
        action: { button: 'Ver', sections: [{ rows: [{ id: 'svc', title: 'Servicio' }] }] },
      },
    });
    const wamid = list.json().messages[0].id;
    const reply = await app.inject({
      method: 'POST',
      url: '/sandbox/inbound/messages',
      payload: { phoneNumberId: PHONE, from: '+573001110007', type: 'interactive', interactive: { kind: 'list_reply', id: 'svc' } },
    });
    expect(reply.statusCode).toBe(200);
    const message = reply.json().payload.entry[0].changes[0].value.messages[0];
    expect(message).toMatchObject({ id: expect.stringMatching(/^wamid\./), context: { from: '5716010100', id: wamid } });
    const orphan = await app.inject({
      method: 'POST',
      url: '/sandbox/inbound/messages',
      payload: { phoneNumberId: PHONE, from: '+573001110008', type: 'interactive', interactive: { kind: 'button_reply', id: 'yes' } },
    });
    expect(orphan.statusCode).toBe(400);
    expect(orphan.json().message).toMatch(/--reply-to/);
  });

  it('posts one status per webhook unless batching is on', async () => {
    simulator.configure({ enforceWindow: false, statuses: { enabled: true, sentDelayMs: 10, stopAt: 'sent', batchWindowMs: 50 } });
    for (let i = 0; i < 3; i++) await send(text(`+57300111200${i}`));
    await waitUntil(() => received.length >= 3);
    expect(received.map((r) => statusesOf(r).length)).toEqual([1, 1, 1]);
    received.length = 0;
    // Due together (sent at once, one shared sent delay), inside one generous batch window.
    simulator.configure({ statuses: { batch: true, batchWindowMs: 300 } });
    await Promise.all([0, 1, 2].map((i) => send(text(`+57300111300${i}`))));
    await waitUntil(() => received.reduce((n, r) => n + statusesOf(r).length, 0) >= 3);
    expect(received).toHaveLength(1);
    expect(statusesOf(received[0])).toHaveLength(3);
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
    // An invalid token is a Graph error: no WhatsApp error_data.
    const token = await send(text('+573001112233'), { authorization: 'Bearer wrong', 'content-type': 'application/json' });
    expect(token.statusCode).toBe(401);
    expect(token.json()).toEqual({
      error: {
        message: 'Invalid OAuth access token - Cannot parse access token',
        type: 'OAuthException',
        code: 190,
        fbtrace_id: expect.any(String),
      },
    });
    expect((await send(text('+573001112233'), AUTH, '399999999999999')).json().error.code).toBe(100);
    expect((await send({ ...text('+573001112233'), type: 'poll', poll: {} })).json().error).toMatchObject({
      code: 131051,
      message: '(#131051) Unsupported message type',
      error_data: { details: 'Message type is currently not supported.' },
    });
    // Over-long text is an invalid parameter (100), not 131009.
    const long = await send({ ...text('+573001112233'), text: { body: 'x'.repeat(4097) } });
    expect(long.statusCode).toBe(400);
    expect(long.json().error).toMatchObject({ code: 100, message: '(#100) Invalid parameter' });
    expect((await send({ ...text('+573001112233'), text: { body: 'ñ'.repeat(4096) } })).statusCode).toBe(200);
    simulator.sent.length = 0;
    expect(simulator.sent).toHaveLength(0);
  });

  it('holds each number to its throughput over a sliding second (130429)', async () => {
    simulator.configure({ rateLimits: { [PHONE]: 5 } });
    const codes = [];
    for (let i = 0; i < 7; i++) codes.push((await send(text(`+5730011100${i}0`))).json().error?.code ?? 'ok');
    expect(codes).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 130429, 130429]);
    expect((await send(text('+573001110000'))).json().error).toMatchObject({
      message: '(#130429) Rate limit hit',
      error_data: {
        details: 'Message failed to send because there were too many messages sent from this phone number in a short period of time',
      },
    });
    expect(simulator.stats.rejected['130429']).toBe(3);
  });

  it('holds each citizen to the pair limit: a burst, then one per interval (131056)', async () => {
    simulator.configure({ pair: { burst: 2, intervalMs: 300 } });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await send(text('+573001119999'))).json().error?.code ?? 'ok');
    expect(codes).toEqual(['ok', 'ok', 131056]);
    expect((await send(text('+573001119999'))).json().error.message).toBe(
      '(#131056) (Business Account, Consumer Account) pair rate limit hit',
    );
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
    expect((await send(template('nope', 'es'))).json().error).toMatchObject({
      code: 132001,
      message: '(#132001) Template name does not exist in the translation',
      error_data: { details: 'template name (nope) does not exist in es' },
    });
    expect((await send(template('x', 'fr'))).json().error.error_data.details).toBe('template name (x) does not exist in fr');
    expect((await send(template('licence_expiry', 'es'))).json().error).toMatchObject({
      code: 132000,
      message: '(#132000) Number of parameters does not match the expected number of params',
      error_data: { details: 'body: number of localizable_params (0) does not match the expected number of params (1)' },
    });
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
    expect(simulator.stats.rejected['131026']).toBe(1);
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
