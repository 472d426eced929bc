import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { TenantRegistry } from '@wa/tenancy';
import { buildSandbox } from '../server';
import { WebhookSender } from '../webhook-sender';

const TOKENS = {
  ROADS_ACCESS_TOKEN: 'roads-token',
  IMMIGRATION_ACCESS_TOKEN: 'immigration-token',
  ROADS_APP_SECRET: 'roads-secret',
  IMMIGRATION_APP_SECRET: 'immigration-secret',
};
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('sandbox png body')]);

describe('sandbox Graph media endpoints', () => {
  let app: FastifyInstance;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    const tenants = TenantRegistry.parse(readFileSync(join(__dirname, '..', '..', '..', 'config', 'tenants.sandbox.yaml'), 'utf8'), TOKENS);
    app = await buildSandbox({
      tenants,
      webhooks: new WebhookSender('http://127.0.0.1:1'),
      webhookPath: (id) => `/webhooks/whatsapp/${id}`,
    });
    await app.ready();
  });

  afterAll(() => app.close());

  async function resolveAndDownload(id: string, token: string) {
    const resolved = await app.inject({ method: 'GET', url: `/v23.0/${id}`, headers: bearer(token) });
    if (resolved.statusCode !== 200) return { resolved };
    const { url } = resolved.json() as { url: string };
    const download = await app.inject({ method: 'GET', url: new URL(url).pathname, headers: bearer(token) });
    return { resolved, download };
  }

  it('serves a citizen’s file to its tenant only: URL, then bytes with the token', async () => {
    const stored = await app.inject({
      method: 'POST',
      url: '/sandbox/media',
      payload: { tenant: 'roads-agency', mimeType: 'application/pdf', dataBase64: Buffer.from('%PDF-1.4 x').toString('base64') },
    });
    const { id } = stored.json() as { id: string };
    const { resolved, download } = await resolveAndDownload(id, 'roads-token');
    expect(resolved.json()).toMatchObject({ messaging_product: 'whatsapp', id, mime_type: 'application/pdf', file_size: 10 });
    expect(download!.statusCode).toBe(200);
    expect(download!.rawPayload.toString()).toBe('%PDF-1.4 x');

    expect((await resolveAndDownload(id, 'immigration-token')).resolved.json()).toMatchObject({ error: { code: 100 } });
    expect((await app.inject({ method: 'GET', url: `/v23.0/${id}` })).json()).toMatchObject({ error: { code: 190 } });
    const { url } = resolved.json() as { url: string };
    expect((await app.inject({ method: 'GET', url: new URL(url).pathname })).statusCode).toBe(401);
    expect((await app.inject({ method: 'DELETE', url: `/sandbox/media/${id}` })).statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: new URL(url).pathname, headers: bearer('roads-token') })).statusCode).toBe(404);
  });

  it('also serves what a business uploaded through POST /{phone-number-id}/media (one media namespace)', async () => {
    const form = new FormData();
    form.set('messaging_product', 'whatsapp');
    form.set('type', 'image/png');
    form.set('file', new Blob([PNG], { type: 'image/png' }), 'plate.png');
    const request = new Request('http://sandbox/x', { method: 'POST', body: form });
    const uploaded = await app.inject({
      method: 'POST',
      url: '/v23.0/310000000000001/media',
      headers: { ...bearer('roads-token'), 'content-type': request.headers.get('content-type')! },
      payload: Buffer.from(await request.arrayBuffer()),
    });
    expect(uploaded.statusCode).toBe(200);
    const { id } = uploaded.json() as { id: string };
    const { resolved, download } = await resolveAndDownload(id, 'roads-token');
    expect(resolved.json()).toMatchObject({ id, mime_type: 'image/png', file_size: PNG.length });
    expect(download!.rawPayload.equals(PNG)).toBe(true);
  });
});
