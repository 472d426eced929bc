import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { TenantRegistry } from '@wa/tenancy';
import { outboundSimulatorOf } from '../messages/messages.routes';
import type { SandboxContext } from '../sandbox-context';
import { buildSandbox } from '../server';
import { WebhookSender } from '../webhook-sender';
import { SandboxState } from './sandbox-state';

const SECRETS = {
  ROADS_APP_SECRET: 'sandbox-roads-app-secret',
  ROADS_VERIFY_TOKEN: 'v',
  ROADS_ACCESS_TOKEN: 'roads-token',
  IMMIGRATION_APP_SECRET: 'sandbox-immigration-app-secret',
  IMMIGRATION_VERIFY_TOKEN: 'v',
  IMMIGRATION_ACCESS_TOKEN: 'immigration-token',
};
const WABA = '100000000000001';
const PHONE = '310000000000001';
const AUTH = { authorization: 'Bearer roads-token', 'content-type': 'application/json' };
const tenantsYaml = readFileSync(join(__dirname, '..', '..', '..', 'config', 'tenants.sandbox.yaml'), 'utf8');

describe('sandbox state across restarts', () => {
  let dir: string;
  let listener: Server;
  let ingressUrl: string;
  const running: FastifyInstance[] = [];

  beforeAll(async () => {
    // The ingress stand-in: takes every webhook.
    listener = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end()));
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    ingressUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => listener.close(r));
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-state-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(stateDir = dir): Promise<FastifyInstance> {
    const context: SandboxContext = {
      tenants: TenantRegistry.parse(tenantsYaml, SECRETS),
      webhooks: new WebhookSender(ingressUrl),
      webhookPath: (appId) => `/webhooks/whatsapp/${appId}`,
      stateDir,
      messages: { statuses: { enabled: false } },
    };
    const app = await buildSandbox(context);
    await app.ready();
    running.push(app);
    return app;
  }
  async function stop(app: FastifyInstance): Promise<void> {
    running.splice(running.indexOf(app), 1);
    await app.close();
  }
  const createTemplate = (app: FastifyInstance, name: string) =>
    app.inject({
      method: 'POST',
      url: `/v23.0/${WABA}/message_templates`,
      headers: AUTH,
      payload: { name, language: 'es', category: 'UTILITY', components: [{ type: 'BODY', text: 'Su trámite está listo.' }] },
    });
  const statusOf = async (app: FastifyInstance, name: string) =>
    (
      (await app.inject({ method: 'GET', url: `/sandbox/templates?wabaId=${WABA}` })).json().data as { name: string; status: string }[]
    ).find((t) => t.name === name)?.status;
  const sendTemplate = (app: FastifyInstance, name: string) =>
    app.inject({
      method: 'POST',
      url: `/v23.0/${PHONE}/messages`,
      headers: AUTH,
      payload: { messaging_product: 'whatsapp', to: '+573001234567', type: 'template', template: { name, language: { code: 'es' } } },
    });

  it('keeps an approved template (id and status): a new instance on the same directory sends with it', async () => {
    const first = await start();
    const created = await createTemplate(first, 'tramite_listo');
    expect(created.statusCode).toBe(200);
    await waitUntil(async () => (await statusOf(first, 'tramite_listo')) === 'APPROVED');
    await stop(first);
    const file = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    expect(file).toMatchObject({ format: 1, sections: { templates: { templates: [expect.objectContaining({ name: 'tramite_listo' })] } } });

    const second = await start();
    const sent = await sendTemplate(second, 'tramite_listo');
    expect(sent.statusCode).toBe(200);
    expect(sent.json().messages[0].message_status).toBe('accepted');
    const listed = (
      await second.inject({ method: 'GET', url: `/v23.0/${WABA}/message_templates?name=tramite_listo`, headers: AUTH })
    ).json();
    expect(listed.data).toEqual([expect.objectContaining({ id: created.json().id, status: 'APPROVED' })]);
    // New ids continue after the kept ones (Meta never reuses a template id).
    const next = await createTemplate(second, 'otro_aviso');
    expect(BigInt(next.json().id)).toBeGreaterThan(BigInt(created.json().id));
  });

  it('without the state file the template is unknown again (132001): the file is what carries it', async () => {
    const first = await start();
    await createTemplate(first, 'tramite_listo');
    await waitUntil(async () => (await statusOf(first, 'tramite_listo')) === 'APPROVED');
    await stop(first);
    rmSync(dir, { recursive: true, force: true });
    const second = await start();
    expect((await sendTemplate(second, 'tramite_listo')).json().error.code).toBe(132001);
  });

  it('keeps customer-service windows and the "not on WhatsApp" list', async () => {
    const first = await start();
    const injected = await first.inject({
      method: 'POST',
      url: '/sandbox/inbound/messages',
      payload: { phoneNumberId: PHONE, from: '+573001234567', type: 'text', text: 'hola' },
    });
    expect(injected.statusCode).toBe(200);
    await first.inject({ method: 'POST', url: '/sandbox/messages/not-on-whatsapp', payload: { numbers: ['+573000000000'] } });
    await stop(first);

    const second = await start();
    const text = (to: string) => ({ messaging_product: 'whatsapp', to, type: 'text', text: { body: 'Su trámite' } });
    const inside = await second.inject({ method: 'POST', url: `/v23.0/${PHONE}/messages`, headers: AUTH, payload: text('+573001234567') });
    expect(outboundSimulatorOf(second).get(inside.json().messages[0].id)?.failure).toBeUndefined();
    const gone = await second.inject({ method: 'POST', url: `/v23.0/${PHONE}/messages`, headers: AUTH, payload: text('+573000000000') });
    expect(gone.json().error.code).toBe(131026);
  });

  it('reviews again a template that was still pending when the sandbox stopped', async () => {
    const now = new Date().toISOString();
    const pending = {
      id: '1790000000000007',
      wabaId: WABA,
      name: 'en_revision',
      language: 'es',
      category: 'UTILITY',
      parameterFormat: 'positional',
      status: 'PENDING',
      components: [{ type: 'BODY', text: 'Su cita está confirmada.' }],
      qualityScore: 'UNKNOWN',
      createdAt: now,
      updatedAt: now,
    };
    writeFileSync(
      join(dir, 'state.json'),
      JSON.stringify({ format: 1, sections: { templates: { nextId: '1790000000000008', templates: [pending], rules: [] } } }),
    );
    const app = await start();
    await waitUntil(async () => (await statusOf(app, 'en_revision')) === 'APPROVED');
    expect((await sendTemplate(app, 'en_revision')).statusCode).toBe(200);
  });

  it('reports a corrupt state file, moves it aside and starts empty', async () => {
    writeFileSync(join(dir, 'state.json'), '{"format":1,"sections":{"templates":');
    const reported: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      reported.push(String(chunk));
      return true;
    });
    try {
      const app = await start();
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      spy.mockRestore();
    }
    expect(reported.join('')).toMatch(/state\.json is unreadable .*moved aside to .*state\.json\.corrupt-/);
    const files = readdirSync(dir);
    expect(files.filter((f) => f.startsWith('state.json.corrupt-'))).toHaveLength(1);
    expect(files).not.toContain('state.json');
  });

  it('writes atomically: a complete file, no temporary left behind', () => {
    const state = new SandboxState({ dir, debounceMs: 0 });
    let value = 1;
    state.section('counter', { dump: () => value, restore: (v) => (value = Number(v)) });
    state.changed();
    value = 2;
    state.flush();
    expect(readdirSync(dir)).toEqual(['state.json']);
    const again = new SandboxState({ dir });
    let restored = 0;
    again.section('counter', { dump: () => restored, restore: (v) => (restored = Number(v)) });
    expect(again.load()).toEqual(['counter']);
    expect(restored).toBe(2);
  });

  it('reports a section it cannot restore, keeps the others, and a copy of the file', () => {
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ format: 1, sections: { good: 5, bad: 'x' } }));
    const reports: string[] = [];
    const state = new SandboxState({ dir, report: (m) => reports.push(m) });
    let good = 0;
    state.section('good', { dump: () => good, restore: (v) => (good = Number(v)) });
    state.section('bad', {
      dump: () => [],
      restore: () => {
        throw new Error('not a list');
      },
    });
    expect(state.load()).toEqual(['good']);
    expect(good).toBe(5);
    expect(reports).toEqual([expect.stringMatching(/section bad: not a list/)]);
    expect(readdirSync(dir).sort()).toEqual(['state.json', expect.stringMatching(/^state\.json\.corrupt-/)]);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
