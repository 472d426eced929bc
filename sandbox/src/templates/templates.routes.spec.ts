import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { TenantRegistry } from '@wa/tenancy';
import { renderTemplate } from '@wa/templates';
import type { SandboxContext } from '../sandbox-context';
import { buildSandbox } from '../server';
import { WebhookSender } from '../webhook-sender';
import { sandboxTemplates } from './templates.routes';

const env = {
  ROADS_APP_SECRET: 'roads-secret-for-this-test',
  ROADS_VERIFY_TOKEN: 'v',
  ROADS_ACCESS_TOKEN: 'roads-token',
  IMMIGRATION_APP_SECRET: 'immigration-secret-for-this-test',
  IMMIGRATION_VERIFY_TOKEN: 'v',
  IMMIGRATION_ACCESS_TOKEN: 'immigration-token',
};
const ROADS_WABA = '100000000000001';
const IMMIGRATION_WABA = '100000000000002';

interface Received {
  path: string;
  raw: string;
  signature: string;
  body: { entry: { id: string; changes: { field: string; value: Record<string, unknown> }[] }[] };
}

describe('sandbox template management API', () => {
  let ingress: Server;
  let received: Received[];
  let sandbox: FastifyInstance;
  let context: SandboxContext;

  beforeAll(async () => {
    received = [];
    // Stands in for the webhook ingress: records the exact bytes and the signature header.
    ingress = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        received.push({ path: req.url ?? '', raw, signature: String(req.headers['x-hub-signature-256']), body: JSON.parse(raw) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => ingress.listen(0, '127.0.0.1', r));
    const tenants = TenantRegistry.load(join(__dirname, '..', '..', '..', 'config', 'tenants.sandbox.yaml'), env);
    context = {
      tenants,
      webhooks: new WebhookSender(`http://127.0.0.1:${(ingress.address() as AddressInfo).port}`),
      webhookPath: (appId) => `/webhooks/whatsapp/${appId}`,
    };
    sandbox = await buildSandbox(context);
    await sandbox.ready();
  });

  afterAll(async () => {
    await sandbox.close();
    await new Promise((r) => ingress.close(r));
  });

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, token = env.ROADS_ACCESS_TOKEN) =>
    sandbox.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(body !== undefined ? { payload: body as object } : {}),
    });

  const template = (name: string, language = 'en', text = 'Hello {{1}}, your licence expires soon. Please renew it at any office.') => ({
    name,
    language,
    category: 'UTILITY',
    components: [
      { type: 'BODY', text, example: { body_text: [['Ana']] } },
      {
        type: 'BUTTONS',
        buttons: [
          { type: 'QUICK_REPLY', text: 'How to renew' },
          { type: 'URL', text: 'Renew online', url: 'https://roads.example.gov/renew/{{1}}', example: ['ab12'] },
        ],
      },
    ],
  });

  const waitForWebhook = async (predicate: (value: Record<string, unknown>, field: string) => boolean) => {
    await sandboxTemplates(context).settle();
    const hit = received.find((r) => r.body.entry[0].changes.some((c) => predicate(c.value, c.field)));
    if (!hit) throw new Error(`no matching webhook among ${received.length}`);
    return hit;
  };
  it('creates a template as PENDING, then posts a signed APPROVED webhook to the ingress', async () => {
    const created = await call('POST', `/v23.0/${ROADS_WABA}/message_templates`, template('licence_expiring'));
    expect(created.statusCode).toBe(200);
    const { id, status, category } = created.json();
    expect({ status, category }).toEqual({ status: 'PENDING', category: 'UTILITY' });
    expect(id).toMatch(/^\d{16}$/);

    const hit = await waitForWebhook((v) => v.message_template_id === Number(id));
    expect(hit.path).toBe('/webhooks/whatsapp/roads-app');
    expect(hit.signature).toBe(`sha256=${createHmac('sha256', env.ROADS_APP_SECRET).update(hit.raw).digest('hex')}`);
    expect(hit.body.entry[0].id).toBe(ROADS_WABA);
    expect(hit.body.entry[0].changes[0]).toEqual({
      field: 'message_template_status_update',
      value: {
        event: 'APPROVED',
        message_template_id: Number(id),
        message_template_name: 'licence_expiring',
        message_template_language: 'en',
        message_template_category: 'UTILITY',
        reason: 'NONE',
      },
    });
  });

  it('rejects with the reason a test configured, and signs non-ASCII text as Meta escapes it', async () => {
    await call('POST', '/sandbox/templates/review-rules', {
      name: 'visa_expiring',
      outcome: 'REJECTED',
      reason: 'INVALID_FORMAT',
      rejectionInfo: { reason: 'Deux variables sont adjacentes — مثال', recommendation: 'Ajoutez du texte entre les variables.' },
    });
    const created = await call(
      'POST',
      `/v23.0/${IMMIGRATION_WABA}/message_templates`,
      template('visa_expiring', 'ar', 'مرحباً {{1}}، تنتهي صلاحية إقامتك قريباً. يرجى التجديد في أي مركز خدمة.'),
      env.IMMIGRATION_ACCESS_TOKEN,
    );
    expect(created.statusCode).toBe(200);
    const hit = await waitForWebhook((v) => v.message_template_name === 'visa_expiring');
    expect(hit.path).toBe('/webhooks/whatsapp/immigration-app');
    expect(hit.raw).toContain('\\u0645'); // Arabic travels escaped, as Meta sends it
    expect(hit.signature).toBe(`sha256=${createHmac('sha256', env.IMMIGRATION_APP_SECRET).update(hit.raw).digest('hex')}`);
    expect(hit.body.entry[0].changes[0].value).toMatchObject({
      event: 'REJECTED',
      reason: 'INVALID_FORMAT',
      message_template_language: 'ar',
      rejection_info: { reason: 'Deux variables sont adjacentes — مثال', recommendation: 'Ajoutez du texte entre les variables.' },
    });
  });

  it('refuses a wrong token, an invalid template and a duplicate like Meta does', async () => {
    const wrongToken = await call('POST', `/v23.0/${ROADS_WABA}/message_templates`, template('other'), env.IMMIGRATION_ACCESS_TOKEN);
    expect(wrongToken.statusCode).toBe(401);
    expect(wrongToken.json().error).toMatchObject({ code: 190, type: 'OAuthException' });

    const invalid = await call(
      'POST',
      `/v23.0/${ROADS_WABA}/message_templates`,
      template('bad_one', 'en', '{{1}} is at the start of this text here and more words'),
    );
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error.error_user_msg).toContain('may not start with a variable');

    const duplicate = await call('POST', `/v23.0/${ROADS_WABA}/message_templates`, template('licence_expiring'));
    expect(duplicate.statusCode).toBe(400);
    expect(duplicate.json().error).toMatchObject({ code: 100, error_subcode: 2388024 });
  });

  it('lists with cursor paging and requested fields', async () => {
    for (const n of ['page_a', 'page_b', 'page_c']) await call('POST', `/v23.0/${ROADS_WABA}/message_templates`, template(n));
    const first = await call('GET', `/v23.0/${ROADS_WABA}/message_templates?fields=name,status,language,components&limit=2`);
    const page1 = first.json();
    expect(page1.data).toHaveLength(2);
    expect(Object.keys(page1.data[0]).sort()).toEqual(['components', 'id', 'language', 'name', 'status']);
    expect(page1.paging.next).toBeDefined();
    const seen = [...page1.data];
    let after = page1.paging.cursors.after;
    for (;;) {
      const page = (await call('GET', `/v23.0/${ROADS_WABA}/message_templates?fields=name&limit=2&after=${after}`)).json();
      seen.push(...page.data);
      if (!page.paging.next) break;
      after = page.paging.cursors.after;
    }
    expect(seen.map((t) => t.name)).toEqual(['licence_expiring', 'page_a', 'page_b', 'page_c']);
    const immigration = (
      await call('GET', `/v23.0/${IMMIGRATION_WABA}/message_templates?fields=name`, undefined, env.IMMIGRATION_ACCESS_TOKEN)
    ).json();
    expect(immigration.data.map((t: { name: string }) => t.name)).toEqual(['visa_expiring']);
  });

  it('edits an approved template back to review, and deletes by name', async () => {
    const store = sandboxTemplates(context);
    const t = store.find(ROADS_WABA, 'licence_expiring', 'en')!;
    expect(t.status).toBe('APPROVED');
    const edited = await call('POST', `/v23.0/${t.id}`, {
      components: template('x', 'en', 'Hi {{1}}, your licence expires soon. Please renew it at an office near you.').components,
    });
    expect(edited.json()).toEqual({ success: true });
    expect(t.status).toBe('PENDING');
    await store.settle();
    expect(t.status).toBe('APPROVED');

    const deleted = await call('DELETE', `/v23.0/${ROADS_WABA}/message_templates?name=page_a`);
    expect(deleted.json()).toEqual({ success: true });
    expect(store.find(ROADS_WABA, 'page_a', 'en')).toBeUndefined();
    expect((await call('DELETE', `/v23.0/${ROADS_WABA}/message_templates?name=page_a`)).statusCode).toBe(404);
  });

  it('pushes PAUSED, quality and category events as webhooks', async () => {
    const store = sandboxTemplates(context);
    const t = store.find(ROADS_WABA, 'page_b', 'en')!;
    await store.settle();
    const response = await sandbox.inject({
      method: 'POST',
      url: '/sandbox/templates/events',
      payload: {
        templateId: t.id,
        event: 'PAUSED',
        otherInfo: { title: 'FIRST_PAUSE', description: 'Paused for 3 hours: low quality' },
        quality: 'RED',
        category: 'MARKETING',
      },
    });
    expect(response.statusCode).toBe(200);
    expect(t.status).toBe('PAUSED');
    const fields = received
      .filter((r) => r.body.entry[0].changes[0].value.message_template_id === Number(t.id))
      .map((r) => r.body.entry[0].changes[0]);
    expect(fields.map((f) => f.field)).toEqual([
      'message_template_status_update',
      'message_template_status_update',
      'message_template_quality_update',
      'template_category_update',
    ]);
    expect(fields[1].value).toMatchObject({ event: 'PAUSED', other_info: { title: 'FIRST_PAUSE' } });
    expect(fields[2].value).toMatchObject({ previous_quality_score: 'UNKNOWN', new_quality_score: 'RED' });
    expect(fields[3].value).toMatchObject({ previous_category: 'UTILITY', new_category: 'MARKETING' });
  });

  it('accepts exactly what renderTemplate produces for an approved template, and names what is wrong otherwise', async () => {
    const store = sandboxTemplates(context);
    await store.settle();
    const stored = store.find(ROADS_WABA, 'page_c', 'en')!;
    const entry = {
      name: stored.name,
      language: stored.language,
      status: stored.status,
      parameterFormat: stored.parameterFormat,
      components: stored.components,
    };
    const rendered = renderTemplate(entry, { parameters: { '1': 'Ana' }, buttonParameters: { '0': 'renew:ab12', '1': 'ab12' } });
    if (!rendered.ok) throw new Error(rendered.errors.join('; '));
    const check = (tpl: unknown) =>
      sandbox.inject({
        method: 'POST',
        url: '/sandbox/templates/check-send',
        payload: { phoneNumberId: '310000000000001', template: tpl as object },
      });
    expect((await check(rendered.template)).json()).toEqual({ ok: true });

    const noSuffix = { ...rendered.template, components: rendered.components.filter((c) => c.type !== 'button') };
    expect((await check(noSuffix)).json().error).toMatchObject({ code: 132000 });
    const twoParams = {
      ...rendered.template,
      components: [
        {
          type: 'body',
          parameters: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
      ],
    };
    expect((await check(twoParams)).json().error).toMatchObject({ code: 132000 });
    expect((await check({ ...rendered.template, language: { code: 'es' } })).json().error).toMatchObject({ code: 132001 });
    const paused = store.find(ROADS_WABA, 'page_b', 'en')!;
    expect((await check({ name: paused.name, language: { code: 'en' }, components: [] })).json().error).toMatchObject({ code: 132015 });
  });
});
