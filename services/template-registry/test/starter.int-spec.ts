/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { Client } from 'pg';
import { createTestKafka, startTestService, waitFor, type TestKafka, type TestService } from '@wa/testing';
import { AppModule } from '../src/app.module';
import { templateRegistryService } from '../src/service';
import { StarterLoader } from '../src/starter/starter.loader';
import { api, authSecret, IMMIGRATION_WABA, ROADS_WABA, startSandbox, TENANT_SECRETS, TENANTS_FILE, tokenFor } from './support';

/** 8 starter templates × 5 languages for each of the two sandbox tenants. */
const PER_TENANT = 40;
const CREATES_PER_HOUR = 30;

describe('starter catalog at start-up, submitted within the per-WABA creation budget', () => {
  let tk: TestKafka;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let service: TestService | undefined;
  let pg: Client;
  const secret = authSecret();
  const saved: Record<string, string | undefined> = {};

  const boot = (db?: TestService['db']) =>
    startTestService(templateRegistryService, (env) => AppModule.forRoot(env), tk, {
      db,
      env: {
        TENANTS_FILE,
        GRAPH_BASE_URL: sandbox.url,
        AUTH_MODE: 'sandbox',
        AUTH_SANDBOX_SECRET: secret,
        TEMPLATES_SUBMIT_INTERVAL_MS: '100',
        TEMPLATES_STARTER: 'auto',
        TEMPLATES_CREATES_PER_HOUR: String(CREATES_PER_HOUR),
      },
    });

  beforeAll(async () => {
    for (const [k, v] of Object.entries(TENANT_SECRETS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    tk = await createTestKafka('templates-starter');
    sandbox = await startSandbox();
  });

  afterAll(async () => {
    await pg?.end();
    await service?.close();
    await sandbox?.stop();
    await service?.db.drop();
    await tk?.cleanup();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('loads every starter translation for both sandbox tenants and creates only as many per WABA as the budget allows', async () => {
    service = await boot();
    const report = await service.app.get(StarterLoader).done;
    expect(report).toEqual({ tenants: ['roads-agency', 'immigration-dept'], added: 2 * PER_TENANT, present: 0, removed: 0, invalid: [] });

    await waitFor(
      () =>
        sandbox.store.ofWaba(ROADS_WABA).length === CREATES_PER_HOUR && sandbox.store.ofWaba(IMMIGRATION_WABA).length === CREATES_PER_HOUR,
      {
        timeoutMs: 60000,
        what: `${CREATES_PER_HOUR} creations per WABA at the sandbox`,
      },
    );
    pg = new Client({ connectionString: service.db.appUrl('templates') });
    await pg.connect();
    const waiting = await waitFor(
      async () => {
        const { rows } = await pg.query(
          `SELECT tenant_id, count(*)::int AS n, min(next_submit_at) AS earliest, min(last_submit_error) AS why,
                  count(*) FILTER (WHERE last_submit_error IS NULL)::int AS untried
             FROM templates.translation WHERE submission_state = 'queued' GROUP BY tenant_id ORDER BY tenant_id`,
        );
        return rows.length === 2 && rows.every((r) => r.untried === 0) ? rows : undefined;
      },
      { timeoutMs: 30000, what: 'the rest deferred by the budget' },
    );
    expect(waiting.map((r) => [r.tenant_id, r.n])).toEqual([
      ['immigration-dept', PER_TENANT - CREATES_PER_HOUR],
      ['roads-agency', PER_TENANT - CREATES_PER_HOUR],
    ]);
    for (const r of waiting) {
      // The next slot frees an hour after the first creation of the window.
      expect(new Date(r.earliest).getTime()).toBeGreaterThan(Date.now() + 55 * 60 * 1000);
      expect(r.why).toMatch(/^waiting for the management API budget of WABA \d+ \(creates per hour\)$/);
    }
    // No more calls than allowed were made, and nothing else was attempted meanwhile.
    await new Promise((r) => setTimeout(r, 500));
    expect(sandbox.store.ofWaba(ROADS_WABA)).toHaveLength(CREATES_PER_HOUR);

    const roads = api(service.url, await tokenFor(secret, 'roads-agency', ['supervisor']));
    const listed = (await roads.get('/v1/templates')).body as { name: string; translations: { language: string; source: string }[] }[];
    expect(listed).toHaveLength(8);
    expect(listed.every((t) => t.translations.length === 5 && t.translations.every((x) => x.source === 'starter'))).toBe(true);
  });

  it('loads idempotently: a restart adds nothing and does not bring back what an agency deleted', async () => {
    const roads = api(service!.url, await tokenFor(secret, 'roads-agency', ['template-editor']));
    // An agency removes one starter translation that was never submitted.
    const { rows } = await pg.query(
      `SELECT name, language FROM templates.translation WHERE tenant_id = 'roads-agency' AND meta_template_id IS NULL ORDER BY name, language LIMIT 1`,
    );
    expect((await roads.delete(`/v1/templates/${rows[0].name}/languages/${rows[0].language}`)).status).toBe(200);

    const db = service!.db;
    await service!.close();
    service = await boot(db);
    const report = await service.app.get(StarterLoader).done;
    expect(report).toEqual({
      tenants: ['roads-agency', 'immigration-dept'],
      added: 0,
      present: 2 * PER_TENANT - 1,
      removed: 1,
      invalid: [],
    });
    const { rows: counts } = await pg.query(`SELECT count(*)::int AS n FROM templates.translation`);
    expect(counts[0].n).toBe(2 * PER_TENANT - 1);
  });
});
