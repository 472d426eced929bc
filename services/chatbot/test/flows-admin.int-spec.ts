/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { parse } from 'yaml';
import { Topics } from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { createTestKafka, waitFor, type Collector, type TestKafka, type TestService } from '@wa/testing';
import { SandboxFlowsLoader } from '../src/admin/sandbox-flows.loader';
import { api, citizen, Citizen, IMMIGRATION, outbound, ROADS, shown, startChatbot, TEST_FLOW, token } from './support';

const TIMEOUT = 60000;
const withHours = (text: string) => TEST_FLOW.replace('Atendemos de 8:00 a 17:00.', text);

describe('chatbot flows admin API (real Postgres, Kafka)', () => {
  let tk: TestKafka;
  let service: TestService;
  let producer: EventProducer;
  let pg: Client;
  let requests: Collector;
  let editor: ReturnType<typeof api>;
  let flowsDir: string;

  beforeAll(async () => {
    tk = await createTestKafka('chatbot-admin');
    // Sandbox flow files: one valid, one broken; the service must start and publish only the first.
    flowsDir = mkdtempSync(join(tmpdir(), 'chatbot-flows-'));
    mkdirSync(join(flowsDir, 'immigration-dept'));
    writeFileSync(join(flowsDir, 'immigration-dept', 'main.yaml'), TEST_FLOW);
    writeFileSync(
      join(flowsDir, 'immigration-dept', 'broken.yaml'),
      'flow: broken\nlanguages: [ar]\nstart: a\nnodes:\n  a: { type: message, text: { ar: مرحبا }, goto: nowhere }\n',
    );
    ({ service } = await startChatbot(tk, { CHATBOT_SANDBOX_FLOWS: 'true', CHATBOT_FLOWS_DIR: flowsDir }));
    producer = new EventProducer(tk.kafka, tk.options, '/tests/chatbot-admin');
    await producer.connect();
    pg = new Client({ connectionString: service.db.adminUrl });
    await pg.connect();
    requests = await tk.collect(Topics.outboundRequest.name);
    editor = api(service.url, await token(ROADS.tenantId, ['flow-editor']));
  });

  afterAll(async () => {
    await pg?.end();
    await producer?.disconnect();
    await service?.close();
    await service?.db.drop();
    await tk?.cleanup();
  });

  it('refuses a broken flow with every problem listed (node, language, message)', async () => {
    const broken = TEST_FLOW.replace('goto: report_kind', 'goto: nowhere').replace("ar: 'كيف يمكننا مساعدتك؟'", 'fr: Bonjour');
    const r = await editor.put('/v1/flows/main/draft', broken);
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('flow_invalid');
    const problems = r.body.details.problems as { node?: string; language?: string; message: string }[];
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ node: 'main', message: expect.stringMatching(/nowhere/) }),
        expect.objectContaining({ node: 'main', language: 'ar' }),
      ]),
    );
    const syntax = await editor.put('/v1/flows/main/draft', 'flow: main\nnodes: [');
    expect(syntax.status).toBe(422);
    expect(syntax.body.details.problems[0].message).toMatch(/YAML/);
    const named = await editor.put('/v1/flows/other/draft', TEST_FLOW);
    expect(named.status).toBe(422);
    expect(named.body.details.problems[0].message).toMatch(/names flow "main"/);
    expect((await editor.get('/v1/flows')).body).toEqual([]);
  });

  it('drafts, publishes, lists versions, serves the YAML, rolls back in one call; running sessions finish on their version', async () => {
    expect((await editor.post('/v1/flows/main/publish')).status).toBe(404);
    const v1 = await editor.put('/v1/flows/main/draft', withHours('Horario uno.'));
    expect(v1.body).toMatchObject({ flow: 'main', version: 1, state: 'draft', createdBy: 'editor@test' });
    expect((await editor.put('/v1/flows/main/draft', withHours('Horario uno.'))).body.version).toBe(1); // a draft is replaced
    expect((await editor.post('/v1/flows/main/publish')).body).toMatchObject({
      version: 1,
      state: 'published',
      publishedBy: 'editor@test',
    });

    // A citizen starts on version 1 and is inside the plate question when version 2 is published.
    const ana = new Citizen(producer, citizen('57'));
    const read = async (n: number) =>
      (
        await waitFor(() => (outbound(requests, ana.waId).length >= n ? outbound(requests, ana.waId) : undefined), {
          what: `${n} answers`,
          timeoutMs: TIMEOUT,
        })
      ).map(shown);
    await ana.text('hola');
    await read(1);
    await ana.text('3');
    await read(2);

    expect((await editor.put('/v1/flows/main/draft', withHours('Horario dos.'))).body.version).toBe(2);
    expect((await editor.post('/v1/flows/main/publish')).body).toMatchObject({ version: 2, state: 'published' });
    expect((await editor.get('/v1/flows')).body).toEqual([expect.objectContaining({ flow: 'main', published: 2, draft: null, latest: 2 })]);

    // Ana finishes on version 1, then her next session starts on version 2.
    await ana.text('123');
    expect((await read(3))[2]).toBe('Placa 123 sin multas.');
    await ana.text('hola');
    await read(4);
    await ana.text('2');
    expect((await read(5))[4]).toBe('Horario dos.');

    const versions = await editor.get('/v1/flows/main/versions');
    expect(versions.body.map((v: { version: number; state: string }) => [v.version, v.state])).toEqual([
      [2, 'published'],
      [1, 'retired'],
    ]);
    const yaml = await editor.get('/v1/flows/main/versions/1');
    expect(yaml.status).toBe(200);
    expect(parse(yaml.text).flow).toBe('main');
    expect(yaml.text).toContain('Horario uno.');

    const back = await editor.post('/v1/flows/main/rollback');
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ version: 1, state: 'published' });
    const after = (await editor.get('/v1/flows/main/versions')).body;
    expect(after.map((v: { version: number; state: string }) => [v.version, v.state])).toEqual([
      [2, 'retired'],
      [1, 'published'],
    ]);
    expect(after[0].rolledBackAt).toBeDefined();
    expect((await editor.post('/v1/flows/main/rollback')).body).toMatchObject({ code: 'no_previous_version' });
    // Ana's running session stays on version 2; a new citizen starts on version 1 again.
    await ana.text('2');
    expect((await read(7))[6]).toBe('Horario dos.');
    const ben = new Citizen(producer, citizen('57'));
    await ben.text('hola');
    await waitFor(() => outbound(requests, ben.waId).length === 1, { what: 'menu', timeoutMs: TIMEOUT });
    await ben.text('2');
    await waitFor(() => outbound(requests, ben.waId).length === 3, { what: 'hours', timeoutMs: TIMEOUT });
    expect(shown(outbound(requests, ben.waId)[1])).toBe('Horario uno.');
  });

  it('refuses to publish a stored version that does not validate', async () => {
    const broken = TEST_FLOW.replace('goto: report_kind', 'goto: nowhere');
    await pg.query(
      `INSERT INTO chatbot.flow_version (tenant_id, flow, version, state, definition, source, source_sha256, created_by)
       VALUES ($1, 'main', 9, 'retired', $2, $3, 'x', 'test')`,
      [ROADS.tenantId, JSON.stringify(parse(broken)), broken],
    );
    const r = await editor.post('/v1/flows/main/publish?version=9');
    expect(r.status).toBe(422);
    expect(r.body.details.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ node: 'main', message: expect.stringMatching(/nowhere/) })]),
    );
    expect((await editor.get('/v1/flows')).body[0]).toMatchObject({ published: 1 });
  });

  it("exports a language's strings and imports a translation as a new draft", async () => {
    const exported = await editor.get('/v1/flows/main/strings/ar');
    expect(exported.status).toBe(200);
    const strings = parse(exported.text) as Record<string, string | string[]>;
    const key = Object.keys(strings).find((k) => strings[k] === 'نعمل من 8:00 إلى 17:00.')!;
    expect(key).toBeDefined();
    const bad = await editor.put('/v1/flows/main/strings/ar', 'no.such.key: نص\n');
    expect(bad.status).toBe(422);
    expect(bad.body.details.unknownKeys).toEqual(['no.such.key']);
    const ok = await editor.put('/v1/flows/main/strings/ar', `${JSON.stringify(key)}: "نعمل من 9:00."\n`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ state: 'draft', version: 10 });
    expect(ok.body.missingKeys.length).toBeGreaterThan(10);
    const draft = await editor.get('/v1/flows/main/versions/10');
    expect(parse(draft.text)).toMatchObject({ nodes: { hours: { text: { ar: 'نعمل من 9:00.', es: 'Horario uno.' } } } });
  });

  it("a flow-editor of another tenant cannot see or change this tenant's flows; roles are enforced", async () => {
    const own = TEST_FLOW.replace('flow: main', 'flow: roads-only');
    expect((await editor.put('/v1/flows/roads-only/draft', own)).status).toBe(200);
    expect((await editor.post('/v1/flows/roads-only/publish')).status).toBe(200);
    const other = api(service.url, await token(IMMIGRATION.tenantId, ['flow-editor']));
    expect((await other.get('/v1/flows/roads-only/versions')).status).toBe(404);
    expect((await other.get('/v1/flows/roads-only/versions/1')).status).toBe(404);
    expect((await other.get('/v1/flows/roads-only/strings/es')).status).toBe(404);
    expect((await other.post('/v1/flows/roads-only/publish')).status).toBe(404);
    expect((await other.post('/v1/flows/roads-only/rollback')).status).toBe(404);
    expect(((await other.get('/v1/flows')).body as { flow: string }[]).map((f) => f.flow)).toEqual(['main']); // its own sandbox file
    // Its own `main` is another flow than the roads agency's `main`.
    expect((await other.get('/v1/flows/main/versions')).body).toHaveLength(1);
    expect((await editor.get('/v1/flows/main/versions')).body.length).toBeGreaterThan(2);
    expect((await editor.get('/v1/flows/roads-only/versions')).body).toEqual([expect.objectContaining({ version: 1, state: 'published' })]);

    const agent = api(service.url, await token(ROADS.tenantId, ['agent']));
    expect((await agent.get('/v1/flows')).status).toBe(403);
    const supervisor = api(service.url, await token(ROADS.tenantId, ['supervisor']));
    expect((await supervisor.get('/v1/flows')).status).toBe(200);
    expect((await supervisor.put('/v1/flows/main/draft', TEST_FLOW)).status).toBe(403);
    const anonymous = await fetch(`${service.url}/v1/flows`);
    expect(anonymous.status).toBe(401);
    const openApi = (await (await fetch(`${service.url}/docs/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openApi.paths)).toEqual(
      expect.arrayContaining([
        '/v1/flows',
        '/v1/flows/{flow}/draft',
        '/v1/flows/{flow}/publish',
        '/v1/flows/{flow}/rollback',
        '/v1/flows/{flow}/versions',
        '/v1/flows/{flow}/versions/{version}',
        '/v1/flows/{flow}/strings/{language}',
      ]),
    );
  });

  it('sandbox flow files: a valid one is published at start (once), a broken one is logged and skipped', async () => {
    const rows = await pg.query(`SELECT flow, version, state, published_by FROM chatbot.flow_version WHERE tenant_id = $1 ORDER BY flow`, [
      IMMIGRATION.tenantId,
    ]);
    expect(rows.rows).toEqual([{ flow: 'main', version: 1, state: 'published', published_by: 'sandbox-files' }]);
    const loader = service.app.get(SandboxFlowsLoader);
    const again = await loader.load(flowsDir);
    expect(Object.values(again).sort()).toEqual(['invalid', 'unchanged']);
    writeFileSync(join(flowsDir, 'immigration-dept', 'main.yaml'), withHours('Horario nuevo.'));
    expect(Object.values(await loader.load(flowsDir))).toContain('published');
    expect(
      (await pg.query(`SELECT max(version) AS v FROM chatbot.flow_version WHERE tenant_id = $1`, [IMMIGRATION.tenantId])).rows[0].v,
    ).toBe(2);
  });
});
