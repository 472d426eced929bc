/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { Client } from 'pg';
import { Topics, type AccountEventV1, type TemplateCatalogEntryV1 } from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { renderTemplate } from '@wa/templates';
import { createTestKafka, startTestService, waitFor, type Collector, type TestKafka, type TestService } from '@wa/testing';
import { AppModule } from '../src/app.module';
import { templateRegistryService } from '../src/service';
import {
  accountEventFrom,
  api,
  authSecret,
  IMMIGRATION_WABA,
  ROADS_WABA,
  startSandbox,
  TENANT_SECRETS,
  TENANTS_FILE,
  tokenFor,
  type CapturedWebhook,
} from './support';

const named = (name: string, language: string, body: string, examples: Record<string, string>, extra: object[] = []) => ({
  language,
  components: [
    {
      type: 'BODY',
      text: body,
      example: { body_text_named_params: Object.entries(examples).map(([param_name, example]) => ({ param_name, example })) },
    },
    ...extra,
  ],
});

const EXPIRING = {
  name: 'licence_expiring',
  category: 'UTILITY',
  parameterFormat: 'named',
  translations: [
    named(
      'licence_expiring',
      'en',
      'Hello {{first_name}}, your driving licence expires on {{expiry_date}}. You can renew it online or at any office.',
      {
        first_name: 'Ana',
        expiry_date: '12 March 2026',
      },
      [
        {
          type: 'BUTTONS',
          buttons: [
            { type: 'QUICK_REPLY', text: 'How to renew' },
            { type: 'URL', text: 'Renew online', url: 'https://roads.example.gov/renew/{{1}}', example: ['ab12'] },
          ],
        },
      ],
    ),
    named(
      'licence_expiring',
      'es',
      'Hola {{first_name}}, su licencia de conducción vence el {{expiry_date}}. Puede renovarla en línea o en cualquier oficina.',
      {
        first_name: 'Ana',
        expiry_date: '12 de marzo de 2026',
      },
      [
        {
          type: 'BUTTONS',
          buttons: [
            { type: 'QUICK_REPLY', text: 'Cómo renovar' },
            { type: 'URL', text: 'Renovar en línea', url: 'https://roads.example.gov/renovar/{{1}}', example: ['ab12'] },
          ],
        },
      ],
    ),
  ],
};

describe('template registry against Kafka, Postgres and the Cloud API sandbox', () => {
  let tk: TestKafka;
  let service: TestService;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let producer: EventProducer;
  let catalog: Collector;
  let secret: string;
  let editor: ReturnType<typeof api>;
  let immigrationEditor: ReturnType<typeof api>;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    // The service resolves tenant secrets (access tokens) from its environment.
    for (const [k, v] of Object.entries(TENANT_SECRETS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    secret = authSecret();
    tk = await createTestKafka('templates');
    sandbox = await startSandbox();
    service = await startTestService(templateRegistryService, (env) => AppModule.forRoot(env), tk, {
      env: {
        TENANTS_FILE,
        GRAPH_BASE_URL: sandbox.url,
        AUTH_MODE: 'sandbox',
        AUTH_SANDBOX_SECRET: secret,
        TEMPLATES_SUBMIT_INTERVAL_MS: '100',
        TEMPLATES_RETRY_BASE_MS: '100',
        TEMPLATES_STARTER: 'off',
        TEMPLATES_IMPORT_PAGE_SIZE: '2',
      },
    });
    producer = new EventProducer(tk.kafka, tk.options, '/tests/ingress-stand-in');
    await producer.connect();
    catalog = await tk.collect(Topics.templateCatalog.name);
    editor = api(service.url, await tokenFor(secret, 'roads-agency', ['template-editor'], 'ana'));
    immigrationEditor = api(service.url, await tokenFor(secret, 'immigration-dept', ['template-editor'], 'omar'));
  });

  afterAll(async () => {
    await producer?.disconnect();
    await catalog?.stop();
    await service?.close();
    await sandbox?.stop();
    await service?.db.drop();
    await tk?.cleanup();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  /** The catalog records of one key, in order (null value = tombstone). */
  const catalogOf = (tenant: string, name: string, language: string) =>
    catalog.records
      .filter((r) => r.key === `${tenant}:${name}:${language}`)
      .map((r) => (r.value === null ? null : (JSON.parse(r.value) as TemplateCatalogEntryV1)));

  /** Delivers the sandbox's webhooks for a template to Kafka the way the ingress would. */
  const relayWebhooks = async (tenant: string, wabaId: string, match: (w: CapturedWebhook) => boolean): Promise<AccountEventV1[]> => {
    await sandbox.store.settle();
    const events = sandbox.webhooks.filter((w) => w.body.entry[0].id === wabaId && match(w)).map((w) => accountEventFrom(w, tenant));
    for (const e of events) await producer.publish(Topics.accountEvent, e);
    return events;
  };

  const translation = async (client: ReturnType<typeof api>, name: string, language: string) =>
    (await client.get(`/v1/templates/${name}/languages/${language}`)).body;

  it('creates, submits to Meta, turns APPROVED from the status webhook and publishes the catalog entry', async () => {
    const created = await editor.post('/v1/templates', EXPIRING);
    expect(created.status).toBe(201);
    expect(created.body.translations.map((t: { language: string; status: string }) => [t.language, t.status])).toEqual([
      ['en', 'DRAFT'],
      ['es', 'DRAFT'],
    ]);

    // The submitter creates both at the sandbox (PENDING, with Meta's id).
    const pending = await waitFor(
      async () => {
        const t = await translation(editor, 'licence_expiring', 'en');
        return t.status === 'PENDING' && t.metaTemplateId ? t : undefined;
      },
      { timeoutMs: 30000, what: 'submission to the sandbox' },
    );
    expect(sandbox.store.find(ROADS_WABA, 'licence_expiring', 'en')?.id).toBe(pending.metaTemplateId);
    expect(pending.submission).toMatchObject({ state: 'submitted', attempts: 1 });

    await relayWebhooks('roads-agency', ROADS_WABA, (w) => w.body.entry[0].changes[0].value.message_template_name === 'licence_expiring');
    const approved = await waitFor(
      async () => {
        const t = await translation(editor, 'licence_expiring', 'en');
        return t.status === 'APPROVED' ? t : undefined;
      },
      { timeoutMs: 30000, what: 'APPROVED from the status event' },
    );
    expect(approved.reason).toBeUndefined();

    const entries = await waitFor(
      () => {
        const list = catalogOf('roads-agency', 'licence_expiring', 'en');
        return list.at(-1)?.status === 'APPROVED' ? list : undefined;
      },
      { timeoutMs: 30000, what: 'the APPROVED catalog record' },
    );
    expect(entries.map((e) => e?.status)).toEqual(['DRAFT', 'PENDING', 'APPROVED']);
    const entry = entries.at(-1)!;
    expect(entry).toMatchObject({
      tenantId: 'roads-agency',
      name: 'licence_expiring',
      language: 'en',
      category: 'UTILITY',
      parameterFormat: 'named',
      version: 1,
      wabaId: ROADS_WABA,
      metaTemplateId: pending.metaTemplateId,
    });
    expect(entry.parameters).toEqual([
      { component: 'body', name: 'first_name', type: 'text', required: true, example: 'Ana' },
      { component: 'body', name: 'expiry_date', type: 'text', required: true, example: '12 March 2026' },
      { component: 'button', name: 'payload', type: 'payload', buttonIndex: 0, required: false },
      { component: 'button', name: '1', type: 'text', buttonIndex: 1, required: true, example: 'ab12' },
    ]);

    // The gateway's view: render from the catalog entry, and the sandbox accepts exactly that.
    const rendered = renderTemplate(entry, {
      parameters: { first_name: 'Luis', expiry_date: '3 May 2026' },
      buttonParameters: { '0': 'reminder:1:how', '1': 'x9' },
    });
    if (!rendered.ok) throw new Error(rendered.errors.join('; '));
    expect(rendered.template).toEqual({
      name: 'licence_expiring',
      language: { code: 'en' },
      components: [
        {
          type: 'body',
          parameters: [
            { type: 'text', parameter_name: 'first_name', text: 'Luis' },
            { type: 'text', parameter_name: 'expiry_date', text: '3 May 2026' },
          ],
        },
        { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'reminder:1:how' }] },
        { type: 'button', sub_type: 'url', index: '1', parameters: [{ type: 'text', text: 'x9' }] },
      ],
    });
    expect(sandbox.store.checkSend(ROADS_WABA, rendered.template)).toMatchObject({ ok: true });
  });

  it('keeps the rejection reason from Meta visible in the API and the history', async () => {
    await sandbox.app.inject({
      method: 'POST',
      url: '/sandbox/templates/review-rules',
      payload: {
        name: 'visa_reminder',
        outcome: 'REJECTED',
        reason: 'INVALID_FORMAT',
        rejectionInfo: { reason: 'The template looks promotional.', recommendation: 'Keep reminders strictly factual.' },
      },
    });
    const created = await immigrationEditor.post('/v1/templates', {
      name: 'visa_reminder',
      category: 'UTILITY',
      translations: [
        {
          language: 'ar',
          components: [
            {
              type: 'BODY',
              text: 'مرحباً {{1}}، تنتهي صلاحية إقامتك قريباً. يرجى التجديد في أي مركز خدمة.',
              example: { body_text: [['فاطمة']] },
            },
          ],
        },
      ],
    });
    expect(created.status).toBe(201);
    await waitFor(async () => (await translation(immigrationEditor, 'visa_reminder', 'ar')).status === 'PENDING', {
      timeoutMs: 30000,
      what: 'submission',
    });
    await relayWebhooks(
      'immigration-dept',
      IMMIGRATION_WABA,
      (w) => w.body.entry[0].changes[0].value.message_template_name === 'visa_reminder',
    );
    const rejected = await waitFor(
      async () => {
        const t = await translation(immigrationEditor, 'visa_reminder', 'ar');
        return t.status === 'REJECTED' ? t : undefined;
      },
      { timeoutMs: 30000, what: 'REJECTED' },
    );
    expect(rejected.reason).toBe('INVALID_FORMAT');
    expect(rejected.reasonDetail).toBe('The template looks promotional. — Keep reminders strictly factual.');
    const history = (await immigrationEditor.get('/v1/templates/visa_reminder/languages/ar/history')).body;
    expect(history.map((h: { kind: string }) => h.kind)).toEqual(['created', 'submitted', 'status']);
    expect(history[2]).toMatchObject({
      from: 'PENDING',
      to: 'REJECTED',
      actor: 'meta',
      reason: 'INVALID_FORMAT: The template looks promotional. — Keep reminders strictly factual.',
    });
    const last = await waitFor(
      () =>
        catalogOf('immigration-dept', 'visa_reminder', 'ar').at(-1)?.status === 'REJECTED' &&
        catalogOf('immigration-dept', 'visa_reminder', 'ar').at(-1),
      {
        timeoutMs: 30000,
        what: 'REJECTED catalog record',
      },
    );
    expect(last?.reason).toBe('INVALID_FORMAT: The template looks promotional. — Keep reminders strictly factual.');
  });

  it('publishes PAUSED (and quality, category) to the catalog, and render refuses a paused template', async () => {
    const id = sandbox.store.find(ROADS_WABA, 'licence_expiring', 'es')!.id;
    const before = sandbox.webhooks.length;
    await sandbox.app.inject({
      method: 'POST',
      url: '/sandbox/templates/events',
      payload: {
        templateId: id,
        event: 'PAUSED',
        otherInfo: { title: 'FIRST_PAUSE', description: 'Paused for 3 hours because of low quality.' },
        quality: 'RED',
      },
    });
    const pushed = sandbox.webhooks.slice(before).map((w) => accountEventFrom(w, 'roads-agency'));
    expect(pushed.map((e) => e.kind)).toEqual(['template_status', 'template_quality']);
    for (const e of pushed) await producer.publish(Topics.accountEvent, e);

    const paused = await waitFor(
      () => {
        const e = catalogOf('roads-agency', 'licence_expiring', 'es').at(-1);
        return e?.status === 'PAUSED' && e.qualityScore === 'RED' ? e : undefined;
      },
      { timeoutMs: 30000, what: 'PAUSED catalog record' },
    );
    expect(paused.reason).toBe('FIRST_PAUSE: Paused for 3 hours because of low quality.');
    const refused = renderTemplate(paused, { parameters: { first_name: 'Ana', expiry_date: 'mañana' }, buttonParameters: { '1': 'x' } });
    expect(refused).toMatchObject({ ok: false, issues: [{ code: 'template.not_sendable' }] });
    expect(sandbox.store.checkSend(ROADS_WABA, { name: 'licence_expiring', language: { code: 'es' } })).toMatchObject({
      ok: false,
      error: { code: 132015 },
    });

    const t = await translation(editor, 'licence_expiring', 'es');
    expect(t).toMatchObject({ status: 'PAUSED', qualityScore: 'RED', reason: 'FIRST_PAUSE' });
  });

  it('applies each Meta event once (redelivery) and ignores an older event arriving late', async () => {
    const row = await translation(editor, 'licence_expiring', 'en');
    const base: AccountEventV1 = {
      tenantId: 'roads-agency',
      wabaId: ROADS_WABA,
      field: 'template_category_update',
      kind: 'template_category',
      templateId: row.metaTemplateId,
      templateName: 'licence_expiring',
      templateLanguage: 'en',
      occurredAt: new Date().toISOString(),
      details: { previous_category: 'UTILITY', new_category: 'MARKETING' },
    };
    await producer.publish(Topics.accountEvent, base, { id: '6f0c1e52-2a55-4d2b-8f7e-0c3b5d3e1a01' });
    await producer.publish(Topics.accountEvent, base, { id: '6f0c1e52-2a55-4d2b-8f7e-0c3b5d3e1a01' });
    const stale: AccountEventV1 = {
      ...base,
      field: 'message_template_status_update',
      kind: 'template_status',
      event: 'DISABLED',
      occurredAt: new Date(Date.now() - 24 * 3600 * 1000).toISOString(),
      details: { event: 'DISABLED' },
    };
    await producer.publish(Topics.accountEvent, stale);
    const history = await waitFor(
      async () => {
        const h = (await editor.get('/v1/templates/licence_expiring/languages/en/history')).body as { kind: string }[];
        return h.some((e) => e.kind === 'ignored_event') ? h : undefined;
      },
      { timeoutMs: 30000, what: 'the stale event in the history' },
    );
    expect(history.filter((h) => h.kind === 'category')).toHaveLength(1);
    const t = await translation(editor, 'licence_expiring', 'en');
    expect(t).toMatchObject({ status: 'APPROVED', category: 'MARKETING' });
    await waitFor(() => catalogOf('roads-agency', 'licence_expiring', 'en').at(-1)?.category === 'MARKETING', {
      timeoutMs: 30000,
      what: 'category in the catalog',
    });
    expect(catalogOf('roads-agency', 'licence_expiring', 'en').at(-1)).toMatchObject({ status: 'APPROVED', category: 'MARKETING' });
  });

  it('refuses other tenants, other roles and anonymous callers', async () => {
    // Another tenant's template is not found — not forbidden: its existence is not disclosed.
    expect((await immigrationEditor.get('/v1/templates/licence_expiring')).status).toBe(404);
    expect((await immigrationEditor.get('/v1/templates/licence_expiring/languages/en')).status).toBe(404);
    expect(
      (await immigrationEditor.put('/v1/templates/licence_expiring/languages/en', { components: EXPIRING.translations[0].components }))
        .status,
    ).toBe(404);
    expect((await immigrationEditor.delete('/v1/templates/licence_expiring')).status).toBe(404);
    expect((await immigrationEditor.post('/v1/templates/licence_expiring/languages/en/preview', {})).status).toBe(404);
    expect((await immigrationEditor.get('/v1/templates/licence_expiring/languages/en/history')).status).toBe(404);
    const theirs = (await immigrationEditor.get('/v1/templates')).body as { name: string }[];
    expect(theirs.map((t) => t.name)).toEqual(['visa_reminder']);
    // Same name, other tenant: an independent template.
    expect(
      (await immigrationEditor.post('/v1/templates', { ...EXPIRING, translations: [EXPIRING.translations[0]], submit: false })).status,
    ).toBe(201);
    expect((await translation(editor, 'licence_expiring', 'en')).status).toBe('APPROVED');

    const agent = api(service.url, await tokenFor(secret, 'roads-agency', ['agent'], 'agent-7'));
    expect((await agent.get('/v1/templates/licence_expiring')).status).toBe(200);
    const denied = await agent.post('/v1/templates', { ...EXPIRING, name: 'other_one' });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('forbidden');
    const anonymous = await api(service.url).get('/v1/templates');
    expect(anonymous.status).toBe(401);
    const unknownTenant = api(service.url, await tokenFor(secret, 'tax-office', ['admin']));
    expect((await unknownTenant.post('/v1/templates', EXPIRING)).body.code).toBe('tenant_not_configured');
  });

  it('answers invalid templates with every broken rule, per language, and saves nothing', async () => {
    const response = await editor.post('/v1/templates', {
      name: 'broken_one',
      category: 'UTILITY',
      translations: [
        { language: 'en', components: [{ type: 'BODY', text: '{{1}} {{2}} expires', example: { body_text: [['a', 'b']] } }] },
        { language: 'pt', components: [{ type: 'BODY', text: 'Olá, seus documentos estão prontos.' }] },
      ],
    });
    expect(response.status).toBe(422);
    expect(response.body.code).toBe('template_invalid');
    const issues = response.body.details.issues as { language: string; code: string }[];
    expect(issues.map((i) => `${i.language}:${i.code}`)).toEqual([
      'en:body.leading_variable',
      'en:body.adjacent_variables',
      'en:body.too_many_variables',
      'pt:language.not_configured',
      'pt:language.invalid',
    ]);
    expect((await editor.get('/v1/templates/broken_one')).status).toBe(404);

    const inconsistent = await editor.put('/v1/templates/licence_expiring/languages/fr', {
      components: [
        {
          type: 'BODY',
          text: 'Bonjour {{first_name}}, votre permis expire bientôt. Vous pouvez le renouveler en ligne ou au guichet.',
          example: { body_text_named_params: [{ param_name: 'first_name', example: 'Ana' }] },
        },
      ],
    });
    expect(inconsistent.status).toBe(422);
    expect(inconsistent.body.details.issues[0]).toMatchObject({ language: 'fr', code: 'translations.parameters' });

    expect((await editor.post('/v1/templates', EXPIRING)).status).toBe(409);
    expect((await editor.post('/v1/templates', { ...EXPIRING, name: 'Bad Name' })).status).toBe(400);
  });

  it('saves an edit as a new version while senders keep the live one, then submits it as an edit', async () => {
    const components = [
      {
        type: 'BODY',
        text: 'Hello {{first_name}}, your driving licence expires on {{expiry_date}}. Renew it online or at any office before that date.',
        example: {
          body_text_named_params: [
            { param_name: 'first_name', example: 'Ana' },
            { param_name: 'expiry_date', example: '12 March 2026' },
          ],
        },
      },
      EXPIRING.translations[0].components[1],
    ];
    const catalogBefore = catalogOf('roads-agency', 'licence_expiring', 'en').length;
    // What a GET returns, edited, goes back as it is; its version guards against a lost update.
    const read = await translation(editor, 'licence_expiring', 'en');
    const saved = await editor.put('/v1/templates/licence_expiring/languages/en', { ...read, components, submit: false });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ version: 2, liveVersion: 1, status: 'APPROVED', submission: { state: 'submitted' } });
    const stale = await editor.put('/v1/templates/licence_expiring/languages/en', { ...read, submit: false });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('version_conflict');
    const otherLanguage = await editor.put('/v1/templates/licence_expiring/languages/en', { ...read, language: 'es', version: 2 });
    expect(otherLanguage.status).toBe(422);
    const preview = (await editor.post('/v1/templates/licence_expiring/languages/en/preview', { parameters: { first_name: 'Luis' } })).body;
    expect(preview.preview.body).toBe(
      'Hello Luis, your driving licence expires on 12 March 2026. Renew it online or at any office before that date.',
    );
    expect(preview.render).toEqual({
      ok: false,
      errors: [
        'parameters.expiry_date: body variable {{expiry_date}} needs a value (key "expiry_date")',
        'buttonParameters.1: button 1 (URL) needs the URL suffix (buttonParameters["1"])',
      ],
    });
    // Nothing new for senders: the live version is unchanged.
    expect(catalogOf('roads-agency', 'licence_expiring', 'en')).toHaveLength(catalogBefore);

    const mark = sandbox.webhooks.length;
    const submitted = await editor.post('/v1/templates/licence_expiring/languages/en/submit');
    expect(submitted.status).toBe(202);
    const entry = await waitFor(
      () => {
        const e = catalogOf('roads-agency', 'licence_expiring', 'en').at(-1);
        return e?.version === 2 ? e : undefined;
      },
      { timeoutMs: 30000, what: 'the edited version in the catalog' },
    );
    expect(entry.status).toBe('PENDING');
    expect((entry.components[0] as { text: string }).text).toContain('before that date');
    expect(sandbox.store.find(ROADS_WABA, 'licence_expiring', 'en')!.components).toEqual(components);
    // Meta allows one edit of an approved template per 24 h; the registry says so before Meta does.
    await relayWebhooks(
      'roads-agency',
      ROADS_WABA,
      (w) => sandbox.webhooks.indexOf(w) >= mark && w.body.entry[0].changes[0].value.message_template_name === 'licence_expiring',
    );
    await waitFor(async () => (await translation(editor, 'licence_expiring', 'en')).status === 'APPROVED', {
      timeoutMs: 30000,
      what: 'approved again',
    });
    const again = await editor.put('/v1/templates/licence_expiring/languages/en', { components: EXPIRING.translations[0].components });
    expect(again.status).toBe(429);
    expect(again.body.code).toBe('edit_limit');
  });

  it('deletes at Meta and here, leaving tombstones in the catalog', async () => {
    const removed = await editor.delete('/v1/templates/licence_expiring');
    expect(removed).toEqual({ status: 200, body: { deleted: ['en', 'es'] } });
    expect(sandbox.store.find(ROADS_WABA, 'licence_expiring', 'en')).toBeUndefined();
    // One tombstone per language; they are keyed apart, so they may sit on different partitions and
    // arrive in either order.
    await waitFor(() => ['en', 'es'].every((language) => catalogOf('roads-agency', 'licence_expiring', language).at(-1) === null), {
      timeoutMs: 30000,
      what: 'both tombstones',
    });
    const tombstone = catalog.records.filter((r) => r.key === 'roads-agency:licence_expiring:en').at(-1)!;
    expect(tombstone.value).toBeNull();
    expect(tombstone.headers).toMatchObject({ ce_type: 'templates.catalog.v1', ce_tenant: 'roads-agency' });
    expect((await editor.get('/v1/templates/licence_expiring')).status).toBe(404);
    // The history outlives the template.
    const pg = new Client({ connectionString: service.db.appUrl('templates') });
    await pg.connect();
    try {
      const { rows } = await pg.query(
        `SELECT kind FROM templates.translation_history WHERE tenant_id = 'roads-agency' AND name = 'licence_expiring' AND language = 'en' ORDER BY id DESC LIMIT 1`,
      );
      expect(rows[0].kind).toBe('deleted');
    } finally {
      await pg.end();
    }
  });

  it('imports the templates that already exist in the WABA, with paging', async () => {
    const token = TENANT_SECRETS.IMMIGRATION_ACCESS_TOKEN;
    for (const [name, language] of [
      ['residence_ready', 'en'],
      ['residence_ready', 'fr'],
      ['office_closed', 'ar'],
    ]) {
      const response = await fetch(`${sandbox.url}/v23.0/${IMMIGRATION_WABA}/message_templates`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name,
          language,
          category: 'UTILITY',
          components: [{ type: 'BODY', text: 'Your residence permit card is ready for collection at the main office.' }],
        }),
      });
      expect(response.status).toBe(200);
    }
    await sandbox.store.settle();
    const result = await immigrationEditor.post('/v1/templates/import');
    expect(result.status).toBe(200);
    // visa_reminder was there already (the import learns its quality score, UNKNOWN); two per page
    // makes the import follow the cursors.
    expect(result.body).toEqual({ pages: 2, seen: 4, imported: 3, updated: 1, unchanged: 0, skipped: [] });
    const imported = await translation(immigrationEditor, 'residence_ready', 'fr');
    expect(imported).toMatchObject({ status: 'APPROVED', source: 'import', submission: { state: 'submitted' }, liveVersion: 1 });
    await waitFor(() => catalogOf('immigration-dept', 'office_closed', 'ar').at(-1)?.status === 'APPROVED', {
      timeoutMs: 30000,
      what: 'imported catalog record',
    });
    const again = await immigrationEditor.post('/v1/templates/import');
    expect(again.body).toEqual({ pages: 2, seen: 4, imported: 0, updated: 0, unchanged: 4, skipped: [] });
  });

  it('serves the OpenAPI document with the templates API and bearer auth', async () => {
    const docs = (await (await fetch(`${service.url}/docs`)).json()) as {
      paths: Record<string, object>;
      components: { securitySchemes: object };
    };
    expect(Object.keys(docs.paths)).toEqual(
      expect.arrayContaining([
        '/v1/templates',
        '/v1/templates/{name}',
        '/v1/templates/{name}/languages/{language}',
        '/v1/templates/{name}/languages/{language}/preview',
        '/v1/templates/import',
      ]),
    );
    expect(docs.components.securitySchemes).toHaveProperty('bearer');
  });
});
