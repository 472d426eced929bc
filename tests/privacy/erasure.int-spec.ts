import type { EventEnvelope } from '@wa/contracts';
import { Outbox } from '@wa/kafka';
import { applyCitizenErasure, type CitizenEraser } from '@wa/service-kit';
import type { ErasureCounts } from '@wa/persistence';
import { eraseChatbotCitizen } from '../../services/chatbot/src/retention/citizen-erasure';
import { eraseHandoffCitizen } from '../../services/handoff-router/src/retention/citizen-erasure';
import { eraseSchedulerCitizen } from '../../services/notification-scheduler/src/retention/citizen-erasure';
import { eraseGatewayCitizen } from '../../services/outbound-gateway/src/retention/citizen-erasure';
import { eraseTemplatesCitizen } from '../../services/template-registry/src/retention/citizen-erasure';
import { eraseIngressCitizen, mediaIdsSentBy } from '../../services/webhook-ingress/src/retention/citizen-erasure';
import { newCitizen, seedCitizen, type Citizen } from './citizens';
import { CITIZEN_FREE_TABLES } from './citizen-free-tables';
import { platformDb, SERVICES, type PlatformDb } from './platform-db';

const ERASERS: Record<string, CitizenEraser> = {
  ingress: eraseIngressCitizen,
  gateway: eraseGatewayCitizen,
  templates: eraseTemplatesCitizen,
  scheduler: eraseSchedulerCitizen,
  chatbot: eraseChatbotCitizen,
  handoff: eraseHandoffCitizen,
};

/** What identifies the citizen in stored text: key, wa_id, number (with and without +), name. */
const needles = (c: Citizen) => [...new Set([c.key, c.waId, c.phone.slice(1), c.name])].map((n) => `%${n}%`);

/**
 * A citizen's erasure, every service, on real PostgreSQL: after it no table of any schema holds
 * their key, wa_id, number or name; another citizen and the same person at another tenant keep
 * everything; each service answers once per request.
 */
describe("a citizen's erasure across every schema", () => {
  let p: PlatformDb;
  const erased = newCitizen('roads-agency');
  const other = newCitizen('roads-agency');
  const elsewhere: Citizen = { ...erased, tenantId: 'immigration-dept' };
  const results: Record<string, ErasureCounts | undefined> = {};
  let tables: string[];

  /**
   * Rows of `table` whose text contains any needle, among rows of `tenant`: by the tenant column,
   * else the outbox key's tenant, else a pacing lane's business number (the sandbox tenants'), else
   * every row.
   */
  async function rowsNaming(table: string, c: Citizen, tenant: string): Promise<number> {
    const [{ n }] = await p.admin.query(
      `SELECT count(*)::int AS n FROM ${table} t
        WHERE t::text LIKE ANY($1::text[]) AND coalesce(to_jsonb(t) ->> 'tenant_id', split_part(to_jsonb(t) ->> 'key', ':', 1),
                        CASE WHEN to_jsonb(t) ->> 'lane' LIKE '310000000000002:%' THEN 'immigration-dept' END, $2) = $2`,
      [needles(c), tenant],
    );
    return n;
  }

  beforeAll(async () => {
    p = await platformDb();
    await seedCitizen(p.admin, erased);
    await seedCitizen(p.admin, other);
    await seedCitizen(p.admin, elsewhere, 0, '310000000000002');
    tables = (
      await p.admin.query(
        `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables
          WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE' ORDER BY 1`,
        [Object.keys(SERVICES)],
      )
    ).map((r: { t: string }) => r.t);
    const envelope = {
      id: 'erasure-1',
      data: { tenantId: erased.tenantId, requestId: '5c7e3b43-5b0e-4c61-9a3e-1f2d1f0b6d11', citizenKey: erased.key },
    };
    for (const [schema, service] of Object.entries(SERVICES)) {
      // Each service's own app role: erasure needs no privilege the service lacks.
      results[schema] = await applyCitizenErasure(
        p.app[schema],
        new Outbox(`/services/${service.name}`),
        service,
        envelope as EventEnvelope,
        ERASERS[schema],
      );
    }
  }, 120_000);

  afterAll(async () => {
    await p?.close();
  });

  it('covers every table of every schema: erased by its service or declared free of citizen data', () => {
    expect(tables.length).toBeGreaterThan(40);
    const erasedTables = new Set(Object.values(results).flatMap((r) => Object.keys(r ?? {})));
    const uncovered = tables.filter((t) => !erasedTables.has(t) && !CITIZEN_FREE_TABLES[t]);
    expect(uncovered).toEqual([]);
    expect([...erasedTables].filter((t) => CITIZEN_FREE_TABLES[t])).toEqual([]);
    expect(Object.keys(CITIZEN_FREE_TABLES).filter((t) => !tables.includes(t))).toEqual([]);
  });

  it("leaves no table holding the citizen's key, wa_id, number or name at that tenant", async () => {
    const naming: string[] = [];
    for (const table of tables) if ((await rowsNaming(table, erased, erased.tenantId)) > 0) naming.push(table);
    expect(naming).toEqual([]);
  });

  it('touched every table it names, and anonymised rather than deleted where counts must survive', () => {
    for (const [schema, counts] of Object.entries(results)) {
      for (const [table, n] of Object.entries(counts ?? {})) {
        expect({ table, touched: n.deleted + n.anonymised > 0 }).toEqual({ table, touched: true });
      }
      expect(schema in SERVICES).toBe(true);
    }
    expect(results.gateway?.['gateway.outbound_message']).toEqual({ deleted: 0, anonymised: 1 });
    expect(results.scheduler?.['scheduler.notice']).toEqual({ deleted: 0, anonymised: 1 });
    expect(results.handoff?.['handoff.conversation']).toEqual({ deleted: 0, anonymised: 1 });
  });

  it("keeps another citizen's data and the same person's data at another tenant", async () => {
    for (const table of Object.keys(results.chatbot ?? {}).concat([
      'gateway.consent',
      'scheduler.subject',
      'handoff.message',
      'ingress.media',
    ])) {
      if (table.endsWith('.outbox') || table === 'ingress.media') continue;
      expect({ table, n: (await rowsNaming(table, other, other.tenantId)) > 0 }).toEqual({ table, n: true });
      expect({ table, n: (await rowsNaming(table, elsewhere, elsewhere.tenantId)) > 0 }).toEqual({ table, n: true });
    }
    const media = await p.admin.query(`SELECT tenant_id FROM ingress.media ORDER BY tenant_id`);
    expect(media.map((m: { tenant_id: string }) => m.tenant_id)).toEqual(['immigration-dept', 'roads-agency']);
    const counts = await p.admin.query(
      `SELECT state, recipient FROM gateway.outbound_message WHERE tenant_id = 'roads-agency' ORDER BY recipient`,
    );
    expect(counts).toEqual(
      [
        { state: 'accepted', recipient: other.phone },
        { state: 'accepted', recipient: 'erased' },
      ].sort((a, b) => (a.recipient < b.recipient ? -1 : 1)),
    );
  });

  it('answers once per request: a redelivered request changes nothing and publishes no second result', async () => {
    const envelope = {
      id: 'erasure-1',
      data: { tenantId: erased.tenantId, requestId: '5c7e3b43-5b0e-4c61-9a3e-1f2d1f0b6d11', citizenKey: erased.key },
    };
    expect(
      await applyCitizenErasure(
        p.app.chatbot,
        new Outbox('/services/chatbot'),
        SERVICES.chatbot,
        envelope as EventEnvelope,
        eraseChatbotCitizen,
      ),
    ).toBeUndefined();
    const resultRows = await p.admin.query(`SELECT key, value FROM chatbot.outbox WHERE topic = 'citizen.erasure.result.v1'`);
    expect(resultRows).toHaveLength(1);
    expect(resultRows[0].key).toBe(`roads-agency:5c7e3b43-5b0e-4c61-9a3e-1f2d1f0b6d11`);
    for (const n of needles(erased)) expect(resultRows[0].value).not.toContain(n.slice(1, -1));
  });

  it("finds the media a citizen sent in Meta's bodies by any spelling of their number, and survives a body that is not JSON", () => {
    const body = JSON.stringify({
      entry: [
        {
          changes: [
            {
              value: {
                messages: [
                  { from: '5215512345678', type: 'document', document: { id: 'm1' } },
                  { from: '4470', image: { id: 'm2' } },
                ],
              },
            },
          ],
        },
      ],
    });
    expect(mediaIdsSentBy(body, ['525512345678', '5215512345678'])).toEqual(['m1']);
    expect(mediaIdsSentBy('{not json', ['525512345678'])).toEqual([]);
  });
});
