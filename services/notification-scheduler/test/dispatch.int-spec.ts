import type { Client } from 'pg';
import { citizenKey, encodeTombstone, Topics, type CitizenConsentV1, type MessageStatusV1, type OutboundResultV1 } from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { createTestKafka, waitFor, type Collector, type TestKafka } from '@wa/testing';
import { DispatchService } from '../src/dispatch/dispatch.service';
import { AGENCY_EVENT_TYPES } from '../src/planning/plan';
import {
  catalogEntry,
  expiringEvent,
  noticesOf,
  outcomesIn,
  pgClient,
  Publisher,
  requestsIn,
  startScheduler,
  uniquePhone,
  uniqueRef,
  waitApplied,
  waitCatalog,
  type Scheduler,
} from './helpers';

const iso = (d: Date) => d.toISOString();
const settle = () => new Promise((r) => setTimeout(r, 800));

describe('notification scheduler: sending and outcomes (real Kafka + Postgres)', () => {
  let tk: TestKafka;
  let scheduler: Scheduler;
  let producer: EventProducer;
  let publish: Publisher;
  let pg: Client;
  let requests: Collector;
  let outcomes: Collector;

  /** A roads-agency document expiring in 3 days, planned (one catch-up due now); returns its notice id. */
  async function dueNotice(
    citizen: Parameters<typeof expiringEvent>[2] = {},
    expiresOn = '2026-06-30',
  ): Promise<{ id: string; doc: string; phone: string }> {
    const doc = uniqueRef('LIC');
    const event = expiringEvent(doc, expiresOn, citizen);
    await waitApplied(pg, doc, await publish.agency(AGENCY_EVENT_TYPES.expiring, event));
    const notices = await noticesOf(pg, doc);
    expect(notices).toHaveLength(1);
    return { id: notices[0].id, doc, phone: event.citizen.whatsapp };
  }
  const outcomesOf = (id: string) => outcomesIn(outcomes).filter((o) => o.noticeId === id);
  const requestsOf = (id: string) => requestsIn(requests).filter((r) => r.requestId === id);

  beforeAll(async () => {
    tk = await createTestKafka('sched-send');
    scheduler = await startScheduler(tk, '2026-06-27T16:00:00Z', { env: { SCHEDULER_SWEEP_BATCH: '20' } });
    producer = new EventProducer(tk.kafka, tk.options, '/tests/scheduler');
    await producer.connect();
    publish = new Publisher(producer);
    pg = await pgClient(scheduler.service.db);
    requests = await tk.collect(Topics.outboundRequest.name);
    outcomes = await tk.collect(Topics.notificationOutcome.name);
    await producer.publish(Topics.templateCatalog, catalogEntry('document_expiring', 'es'));
    await producer.publish(Topics.templateCatalog, catalogEntry('document_expiring', 'en', 'REJECTED'));
    await producer.publish(Topics.templateCatalog, catalogEntry('document_expiring', 'ar', 'PENDING', 'immigration-dept'));
    await waitCatalog(pg, 'document_expiring', 'es', 'APPROVED');
    await waitCatalog(pg, 'document_expiring', 'ar', 'PENDING');
  });

  afterAll(async () => {
    await pg?.end();
    await producer?.disconnect();
    await scheduler?.service.close();
    await scheduler?.service.db.drop();
    await tk?.cleanup();
  });

  beforeEach(() => scheduler.clock.set('2026-06-27T16:00:00Z')); // 11:00 in Bogota

  it('quiet hours move a late-evening reminder to 08:00 next morning in the citizen zone, across the DST change', async () => {
    // 22:30 EST on Saturday 7 March 2026 in New York; clocks go forward at 02:00 that night.
    scheduler.clock.set('2026-03-08T03:30:00Z');
    const { id, doc } = await dueNotice({ timeZone: 'America/New_York' }, '2026-03-10');
    const [notice] = await noticesOf(pg, doc);
    expect(iso(notice.due_at)).toBe('2026-03-08T12:00:00.000Z'); // 08:00 EDT (13:00Z would be 08:00 EST)
    scheduler.clock.set('2026-03-08T11:59:00Z');
    await scheduler.sweep();
    await settle();
    expect(requestsOf(id)).toEqual([]);
    scheduler.clock.set('2026-03-08T12:00:00Z');
    await scheduler.sweep();
    await waitFor(() => requestsOf(id).length === 1, { what: 'the reminder at 08:00 EDT', timeoutMs: 30000 });
  });

  it('a notice found due during quiet hours (a late sweep) is deferred to the next allowed minute', async () => {
    const doc = uniqueRef('LIC');
    await waitApplied(pg, doc, await publish.agency(AGENCY_EVENT_TYPES.expiring, expiringEvent(doc, '2026-07-15')));
    const planned = await noticesOf(pg, doc); // P6W missed: a catch-up now; P1W on 8 July
    expect(planned.map((n) => [n.slot, n.catch_up])).toEqual([
      ['P6W', true],
      ['P1W', false],
    ]);
    const id = planned[0].id;
    scheduler.clock.set('2026-06-28T02:00:00Z'); // 21:00 in Bogota: the sweep was down all afternoon
    await scheduler.sweep();
    const [notice] = (await noticesOf(pg, doc)).filter((n) => n.id === id);
    expect([notice.status, iso(notice.due_at), notice.detail]).toEqual(['planned', '2026-06-28T13:00:00.000Z', 'deferred: quiet-hours']);
    await settle();
    expect(requestsOf(id)).toEqual([]);
  });

  it('falls back along the tenant language chain (pt_BR → es) and reports why when no translation is approved', async () => {
    const { id } = await dueNotice({ preferredLanguage: 'pt_BR' });
    await scheduler.sweep();
    const [request] = await waitFor(() => (requestsOf(id).length ? requestsOf(id) : undefined), { what: 'request', timeoutMs: 30000 });
    expect(request.template).toMatchObject({ name: 'document_expiring', language: 'es' });

    scheduler.clock.set('2026-06-27T08:00:00Z'); // 12:00 in Dubai
    const doc = uniqueRef('VISA');
    const visa = expiringEvent(doc, '2026-06-30', { preferredLanguage: 'en' }, 'immigration-dept');
    visa.document.documentType = 'residence_visa';
    await waitApplied(pg, doc, await publish.agency(AGENCY_EVENT_TYPES.expiring, visa));
    const [notice] = await noticesOf(pg, doc);
    await scheduler.sweep();
    const [outcome] = await waitFor(() => (outcomesOf(notice.id).length ? outcomesOf(notice.id) : undefined), {
      what: 'outcome',
      timeoutMs: 30000,
    });
    expect(outcome).toMatchObject({
      outcome: 'no_approved_template',
      tenantId: 'immigration-dept',
      documentId: doc,
      noticeType: 'document_expiry',
      slot: 'P1W',
    });
    expect(outcome.detail).toBe('document_expiring: en: missing, ar: PENDING');
    expect(requestsOf(notice.id)).toEqual([]);
    expect((await noticesOf(pg, doc))[0].status).toBe('no_approved_template');
  });

  it('a deleted translation (catalog tombstone) is no longer used', async () => {
    await producer.publish(Topics.templateCatalog, catalogEntry('document_expiring', 'fr'));
    await waitCatalog(pg, 'document_expiring', 'fr', 'APPROVED');
    const raw = tk.kafka.producer();
    await raw.connect();
    await raw.send({
      topic: `${tk.prefix}${Topics.templateCatalog.name}`,
      messages: [encodeTombstone(Topics.templateCatalog, 'roads-agency:document_expiring:fr', 'roads-agency', { source: '/tests' })],
    });
    await raw.disconnect();
    await waitFor(
      async () =>
        (await pg.query(`SELECT 1 FROM scheduler.template_catalog WHERE name = 'document_expiring' AND language = 'fr'`)).rowCount === 0,
      { what: 'the translation deleted', timeoutMs: 30000 },
    );
    const { id } = await dueNotice({ preferredLanguage: 'fr' }); // roads: fr → [fr, en], then es
    await scheduler.sweep();
    const [request] = await waitFor(() => (requestsOf(id).length ? requestsOf(id) : undefined), { what: 'request', timeoutMs: 30000 });
    expect(request.template!.language).toBe('es'); // en is REJECTED in this catalog
  });

  it('an opted-out citizen gets nothing and the agency gets "opted_out"', async () => {
    const phone = uniquePhone();
    const consent: CitizenConsentV1 = {
      tenantId: 'roads-agency',
      contact: { phone },
      category: 'utility',
      state: 'opted_out',
      channel: 'whatsapp-keyword',
      occurredAt: '2026-06-01T00:00:00Z',
    };
    await producer.publish(Topics.citizenConsent, consent);
    await waitFor(
      async () => (await pg.query('SELECT 1 FROM scheduler.consent WHERE citizen_key = $1', [citizenKey({ phone })])).rowCount === 1,
      {
        what: 'the consent row',
        timeoutMs: 30000,
      },
    );
    const { id } = await dueNotice({ whatsapp: phone });
    await scheduler.sweep();
    const [outcome] = await waitFor(() => (outcomesOf(id).length ? outcomesOf(id) : undefined), { what: 'outcome', timeoutMs: 30000 });
    expect(outcome).toMatchObject({ outcome: 'opted_out', noticeId: id });
    await settle();
    expect(requestsOf(id)).toEqual([]);
  });

  // WhatsApp's wa_id for Mexican mobiles keeps a 1 after 52; for Brazilian mobiles it may lack the
  // ninth digit. The STOP comes from the wa_id, the agency names the E.164 number: one citizen.
  it.each([
    ['Mexican', '+525512345678', '5215512345678'],
    ['Brazilian', '+5511987654321', '551187654321'],
  ])('a %s citizen whose STOP came from their wa_id is not sent the notice for their E.164 number', async (_, phone, waId) => {
    await producer.publish(Topics.citizenConsent, {
      tenantId: 'roads-agency',
      contact: { waId },
      category: 'utility',
      state: 'opted_out',
      channel: 'whatsapp-keyword',
      occurredAt: '2026-06-01T00:00:00Z',
    } satisfies CitizenConsentV1);
    await waitFor(
      async () => (await pg.query('SELECT 1 FROM scheduler.consent WHERE citizen_key = $1', [citizenKey({ phone })])).rowCount === 1,
      {
        what: 'the consent row under the citizen key',
        timeoutMs: 30000,
      },
    );
    const { id } = await dueNotice({ whatsapp: phone });
    await scheduler.sweep();
    const [outcome] = await waitFor(() => (outcomesOf(id).length ? outcomesOf(id) : undefined), { what: 'outcome', timeoutMs: 30000 });
    expect(outcome).toMatchObject({ outcome: 'opted_out', noticeId: id });
    await settle();
    expect(requestsOf(id)).toEqual([]);
  });

  it('keeps the consent of a citizen known only by their business-scoped user id', async () => {
    const bsuid = `CO.${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    await producer.publish(Topics.citizenConsent, {
      tenantId: 'roads-agency',
      contact: { bsuid },
      category: 'all',
      state: 'opted_out',
      channel: 'whatsapp-keyword',
      occurredAt: '2026-06-01T00:00:00Z',
    } satisfies CitizenConsentV1);
    await waitFor(
      async () =>
        (await pg.query('SELECT category FROM scheduler.consent WHERE citizen_key = $1 ORDER BY category', [`bsuid:${bsuid}`])).rows
          .map((r) => r.category)
          .join() === 'all,marketing,utility',
      { what: 'the BSUID consent rows', timeoutMs: 30000 },
    );
  });

  it('a later opt-in to everything lifts an earlier utility opt-out; an older one does not', async () => {
    const phone = uniquePhone();
    const consent = (category: string, state: 'opted_in' | 'opted_out', occurredAt: string): CitizenConsentV1 =>
      ({ tenantId: 'roads-agency', contact: { phone }, category, state, channel: 'web', occurredAt }) as CitizenConsentV1;
    const state = async (category: string) =>
      (await pg.query('SELECT state FROM scheduler.consent WHERE citizen_key = $1 AND category = $2', [citizenKey({ phone }), category]))
        .rows[0]?.state;
    await producer.publish(Topics.citizenConsent, consent('utility', 'opted_out', '2026-06-01T00:00:00Z'));
    await producer.publish(Topics.citizenConsent, consent('all', 'opted_in', '2026-05-01T00:00:00Z')); // older than the opt-out
    await waitFor(async () => (await state('all')) === 'opted_in', { what: 'the older opt-in applied', timeoutMs: 30000 });
    expect(await state('utility')).toBe('opted_out');
    await producer.publish(Topics.citizenConsent, consent('all', 'opted_in', '2026-06-02T00:00:00Z'));
    await waitFor(async () => (await state('utility')) === 'opted_in', { what: 'the utility opt-out lifted', timeoutMs: 30000 });
    const { id } = await dueNotice({ whatsapp: phone });
    await scheduler.sweep();
    await waitFor(() => requestsOf(id).length === 1, { what: 'the request', timeoutMs: 30000 });
  });

  it('values a template needs but the event lacks: "invalid_parameters" with the registry’s words', async () => {
    const { id } = await dueNotice({ name: undefined });
    await scheduler.sweep();
    const [outcome] = await waitFor(() => (outcomesOf(id).length ? outcomesOf(id) : undefined), { what: 'outcome', timeoutMs: 30000 });
    expect(outcome.outcome).toBe('invalid_parameters');
    expect(outcome.detail).toContain('{{first_name}}');
  });

  it('follows a notice through the gateway result and status webhooks: sent, delivered, read, once each', async () => {
    const { id } = await dueNotice();
    await scheduler.sweep();
    await waitFor(() => requestsOf(id).length === 1, { what: 'request', timeoutMs: 30000 });
    const result: OutboundResultV1 = {
      tenantId: 'roads-agency',
      requestId: id,
      outcome: 'accepted',
      wamid: `wamid.${id}`,
      attempts: 1,
      callbackData: id,
      requestedBy: 'notification-scheduler',
      decidedAt: '2026-06-27T16:00:01Z',
    };
    const status = (s: MessageStatusV1['status'], at: string, callback = true): MessageStatusV1 => ({
      tenantId: 'roads-agency',
      phoneNumberId: '310000000000001',
      messageId: `wamid.${id}`,
      status: s,
      occurredAt: at,
      ...(callback ? { bizOpaqueCallbackData: `${id}|${id}` } : {}),
    });
    await producer.publish(Topics.outboundResult, result);
    await producer.publish(Topics.messageStatus, status('delivered', '2026-06-27T16:00:05Z'));
    await producer.publish(Topics.messageStatus, status('read', '2026-06-27T16:03:00Z', false)); // found by wamid
    await producer.publish(Topics.messageStatus, status('delivered', '2026-06-27T16:00:05Z')); // replay
    await producer.publish(Topics.outboundResult, result); // replay
    await waitFor(() => outcomesOf(id).some((o) => o.outcome === 'read'), { what: 'the read outcome', timeoutMs: 30000 });
    await settle();
    expect(outcomesOf(id).map((o) => [o.outcome, o.wamid])).toEqual([
      ['sent', `wamid.${id}`],
      ['delivered', `wamid.${id}`],
      ['read', `wamid.${id}`],
    ]);
  });

  it('a number not on WhatsApp (131026) is reported so the agency can fall back to SMS or letter', async () => {
    const { id, doc } = await dueNotice();
    await scheduler.sweep();
    await waitFor(() => requestsOf(id).length === 1, { what: 'request', timeoutMs: 30000 });
    await producer.publish(Topics.outboundResult, {
      tenantId: 'roads-agency',
      requestId: id,
      outcome: 'failed',
      error: { code: 131026, title: 'Message undeliverable' },
      reason: 'undeliverable',
      attempts: 1,
      callbackData: id,
      requestedBy: 'notification-scheduler',
      decidedAt: '2026-06-27T16:00:01Z',
    } as OutboundResultV1);
    const [outcome] = await waitFor(() => (outcomesOf(id).length ? outcomesOf(id) : undefined), { what: 'outcome', timeoutMs: 30000 });
    expect(outcome).toMatchObject({ outcome: 'not_on_whatsapp', errorCode: '131026', documentId: doc, subjectId: `cit-${doc}` });
    expect((await noticesOf(pg, doc))[0].status).toBe('not_on_whatsapp');
  });

  it('at most 3 notices per citizen and local day (roads-agency policy); the 4th goes out next morning', async () => {
    const phone = uniquePhone();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await dueNotice({ whatsapp: phone })).id);
    await scheduler.sweep();
    await waitFor(() => ids.filter((id) => requestsOf(id).length).length === 3, { what: 'three requests', timeoutMs: 30000 });
    const rows = (await pg.query('SELECT id, status, due_at, detail FROM scheduler.notice WHERE id = ANY($1)', [ids])).rows;
    const deferred = rows.filter((r) => r.status === 'planned');
    expect(deferred).toHaveLength(1);
    expect([iso(deferred[0].due_at), deferred[0].detail]).toEqual(['2026-06-28T13:00:00.000Z', 'deferred: daily-limit']);
    scheduler.clock.set('2026-06-28T13:00:00Z');
    await scheduler.sweep();
    await waitFor(() => requestsOf(deferred[0].id).length === 1, { what: 'the fourth, next morning', timeoutMs: 30000 });
    const days = async () =>
      (await pg.query('SELECT day::text, sent FROM scheduler.daily_send WHERE citizen_key = $1 ORDER BY day', [citizenKey({ phone })]))
        .rows;
    expect(await days()).toEqual([
      { day: '2026-06-27', sent: 3 },
      { day: '2026-06-28', sent: 1 },
    ]);
    scheduler.clock.set('2026-07-01T12:00:00Z');
    await scheduler.service.app.get(DispatchService).pruneDailyCounts();
    expect(await days()).toEqual([{ day: '2026-06-28', sent: 1 }]);
  });

  it('a notice that could not go out before its deadline is reported as expired_before_sending', async () => {
    const { id } = await dueNotice();
    scheduler.clock.set('2026-07-01T05:00:00Z'); // end of 30 June in Bogota
    await scheduler.sweep();
    const [outcome] = await waitFor(() => (outcomesOf(id).length ? outcomesOf(id) : undefined), { what: 'outcome', timeoutMs: 30000 });
    expect(outcome.outcome).toBe('expired_before_sending');
    expect(requestsOf(id)).toEqual([]);
  });

  it('a sweep that fails half-way sends nothing; the next sends every notice once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await dueNotice()).id);
    // Fail the sweep's last statement (after the send requests were written to the outbox), as a
    // crash or a lost connection before COMMIT would: the whole transaction must roll back.
    await pg.query(`
      CREATE FUNCTION scheduler.fail_sweep() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'simulated crash in the middle of a sweep'; END $$`);
    await pg.query(`
      CREATE TRIGGER fail_sweep BEFORE UPDATE ON scheduler.notice FOR EACH ROW
      WHEN (NEW.status = 'dispatched' AND NEW.id = '${ids[5]}') EXECUTE FUNCTION scheduler.fail_sweep()`);
    try {
      await expect(scheduler.sweep()).rejects.toThrow('simulated crash');
    } finally {
      await pg.query('DROP TRIGGER fail_sweep ON scheduler.notice');
      await pg.query('DROP FUNCTION scheduler.fail_sweep()');
    }
    const statuses = (await pg.query('SELECT status FROM scheduler.notice WHERE id = ANY($1)', [ids])).rows.map((r) => r.status);
    expect(statuses).toEqual(Array(8).fill('planned'));
    expect((await pg.query('SELECT count(*)::int AS n FROM scheduler.outbox WHERE "eventId" = ANY($1)', [ids])).rows[0].n).toBe(0);
    await settle();
    expect(ids.flatMap(requestsOf)).toEqual([]);
    await scheduler.sweep();
    await waitFor(() => ids.every((id) => requestsOf(id).length === 1), { what: 'all eight requests', timeoutMs: 30000 });
    await settle();
    expect(ids.map((id) => requestsOf(id).length)).toEqual(Array(8).fill(1));
  });

  it('two scheduler replicas on one database: each notice is sent exactly once', async () => {
    const second = await startScheduler(tk, '2026-06-27T16:00:00Z', { db: scheduler.service.db, env: { SCHEDULER_SWEEP_BATCH: '20' } });
    try {
      const docs = Array.from({ length: 150 }, () => uniqueRef('LIC'));
      const ids = new Set<string>();
      let last = '';
      for (const doc of docs) last = await publish.agency(AGENCY_EVENT_TYPES.expiring, expiringEvent(doc, '2026-06-30'));
      await waitApplied(pg, docs[docs.length - 1], last);
      await waitFor(
        async () => (await pg.query('SELECT count(*)::int AS n FROM scheduler.notice WHERE ref = ANY($1)', [docs])).rows[0].n === 150,
        {
          what: '150 planned notices',
          timeoutMs: 60000,
        },
      );
      for (const r of (await pg.query('SELECT id FROM scheduler.notice WHERE ref = ANY($1)', [docs])).rows) ids.add(r.id);
      const claimed = await Promise.all([scheduler.sweep(), second.sweep(), scheduler.sweep(), second.sweep()]);
      expect(claimed[0] + claimed[2]).toBeGreaterThan(0);
      expect(claimed[1] + claimed[3]).toBeGreaterThan(0);
      await waitFor(() => [...ids].every((id) => requestsOf(id).length > 0), { what: 'all 150 requests', timeoutMs: 60000 });
      await settle();
      const sent = requestsIn(requests).filter((r) => ids.has(r.requestId));
      expect(sent).toHaveLength(150);
      expect(new Set(sent.map((r) => r.requestId)).size).toBe(150);
    } finally {
      await second.service.close();
    }
  });
});
