/**
 * @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs
 */
import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { mintSandboxToken, type Role } from '@wa/auth';
import { CE, Topics } from '@wa/contracts';
import { dlqTopicName, EventProducer, RETRY_HEADERS } from '@wa/kafka';
import { createTestKafka, waitFor, type Collector, type TestKafka } from '@wa/testing';
import { AGENCY_EVENT_TYPES } from '../src/planning/plan';
import {
  catalogEntry,
  expiringEvent,
  noticesOf,
  pgClient,
  Publisher,
  requestsIn,
  SANDBOX_SECRET,
  startScheduler,
  uniqueRef,
  waitApplied,
  waitCatalog,
  type Scheduler,
} from './helpers';

const iso = (d: Date) => d.toISOString();

describe('notification scheduler: planning agency events (real Kafka + Postgres)', () => {
  let tk: TestKafka;
  let scheduler: Scheduler;
  let producer: EventProducer;
  let publish: Publisher;
  let pg: Client;
  let requests: Collector;

  const token = (roles: Role[], tenant = 'roads-agency') =>
    mintSandboxToken({ key: Buffer.from(SANDBOX_SECRET), sub: 'ops@roads', tenant, roles });
  const api = async (path: string, init: RequestInit & { roles?: Role[]; tenant?: string } = {}) => {
    const headers: Record<string, string> = init.body ? { 'content-type': 'application/json' } : {};
    if (init.roles) headers.authorization = `Bearer ${await token(init.roles, init.tenant)}`;
    const res = await fetch(`${scheduler.service.url}${path}`, { ...init, headers });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, unknown> };
  };

  beforeAll(async () => {
    tk = await createTestKafka('sched-plan');
    scheduler = await startScheduler(tk, '2026-01-10T12:00:00Z');
    producer = new EventProducer(tk.kafka, tk.options, '/agencies/roads/licensing');
    await producer.connect();
    publish = new Publisher(producer);
    pg = await pgClient(scheduler.service.db);
    requests = await tk.collect(Topics.outboundRequest.name);
    await producer.publish(Topics.templateCatalog, catalogEntry('document_expiring', 'es'));
    await waitCatalog(pg, 'document_expiring', 'es', 'APPROVED');
  });

  afterAll(async () => {
    await pg?.end();
    await producer?.disconnect();
    await scheduler?.service.close();
    await scheduler?.service.db.drop();
    await tk?.cleanup();
  });

  it('plans two reminders (6 weeks and 1 week before, 10:00 local) and sends each at its instant', async () => {
    scheduler.clock.set('2026-01-10T12:00:00Z');
    const doc = uniqueRef('LIC');
    const event = expiringEvent(doc, '2026-06-30');
    const id = await publish.agency(AGENCY_EVENT_TYPES.expiring, event);
    await waitApplied(pg, doc, id);
    const planned = await noticesOf(pg, doc);
    expect(planned.map((n) => [n.slot, n.status, iso(n.due_at)])).toEqual([
      ['P6W', 'planned', '2026-05-19T15:00:00.000Z'], // 10:00 in Bogota
      ['P1W', 'planned', '2026-06-23T15:00:00.000Z'],
    ]);

    scheduler.clock.set('2026-05-19T14:59:59Z');
    await scheduler.sweep();
    expect((await noticesOf(pg, doc)).map((n) => n.status)).toEqual(['planned', 'planned']);

    scheduler.clock.set('2026-05-19T15:00:00Z');
    await scheduler.sweep();
    const first = await waitFor(() => requestsIn(requests).find((r) => r.requestId === planned[0].id), {
      what: 'first reminder request',
      timeoutMs: 30000,
    });
    expect(first).toMatchObject({
      tenantId: 'roads-agency',
      to: { phone: event.citizen.whatsapp },
      kind: 'template',
      priority: 'notification',
      callbackData: planned[0].id,
      requestedBy: 'notification-scheduler',
      template: {
        name: 'document_expiring',
        language: 'es',
        parameters: { first_name: 'Ana', document_type: 'licencia de conducción', expiry_date: '30 de junio de 2026' },
      },
      expiresAt: '2026-06-23T15:00:00.000Z',
    });
    // The record's ce_id is the notice id as well, so the gateway's inbox sees one request per notice.
    expect(requests.records.find((r) => JSON.parse(r.value!).requestId === planned[0].id)!.headers[CE.id]).toBe(planned[0].id);
    expect((await noticesOf(pg, doc)).map((n) => n.status)).toEqual(['dispatched', 'planned']);

    scheduler.clock.set('2026-06-23T15:00:00Z');
    await scheduler.sweep();
    await waitFor(() => requestsIn(requests).some((r) => r.requestId === planned[1].id), {
      what: 'second reminder request',
      timeoutMs: 30000,
    });
    scheduler.clock.set('2026-12-31T00:00:00Z');
    await scheduler.sweep();
    await new Promise((r) => setTimeout(r, 500));
    expect(requestsIn(requests).filter((r) => r.callbackData === planned[0].id || r.callbackData === planned[1].id)).toHaveLength(2);
  });

  it('a renewal before the first reminder cancels both', async () => {
    scheduler.clock.set('2026-01-10T12:00:00Z');
    const doc = uniqueRef('LIC');
    const event = expiringEvent(doc, '2026-06-30');
    await waitApplied(pg, doc, await publish.agency(AGENCY_EVENT_TYPES.expiring, event));
    const renewed = await publish.agency(AGENCY_EVENT_TYPES.renewed, {
      tenantId: 'roads-agency',
      citizen: event.citizen,
      document: event.document,
      renewedOn: '2026-02-01',
    });
    await waitApplied(pg, doc, renewed);
    const notices = await noticesOf(pg, doc);
    expect(notices.map((n) => [n.slot, n.status, n.detail])).toEqual([
      ['P6W', 'cancelled', 'document renewed'],
      ['P1W', 'cancelled', 'document renewed'],
    ]);
    scheduler.clock.set('2026-12-31T00:00:00Z');
    await scheduler.sweep();
    await new Promise((r) => setTimeout(r, 500));
    expect(requestsIn(requests).filter((r) => notices.some((n) => n.id === r.requestId))).toEqual([]);
  });

  it('a changed expiry date replans; changing it back revives the first plan instead of duplicating it', async () => {
    scheduler.clock.set('2026-01-10T12:00:00Z');
    const doc = uniqueRef('LIC');
    const event = expiringEvent(doc, '2026-06-30');
    await waitApplied(pg, doc, await publish.agency(AGENCY_EVENT_TYPES.expiring, event));
    const original = await noticesOf(pg, doc);
    const changed = await publish.agency(AGENCY_EVENT_TYPES.expiryChanged, {
      ...event,
      expiresOn: '2026-09-30',
      previousExpiresOn: '2026-06-30',
    });
    await waitApplied(pg, doc, changed);
    const after = await noticesOf(pg, doc);
    expect(after.map((n) => [n.slot, n.status, iso(n.due_at)])).toEqual([
      ['P6W', 'cancelled', '2026-05-19T15:00:00.000Z'],
      ['P1W', 'cancelled', '2026-06-23T15:00:00.000Z'],
      ['P6W', 'planned', '2026-08-19T15:00:00.000Z'],
      ['P1W', 'planned', '2026-09-23T15:00:00.000Z'],
    ]);
    expect(after[0].detail).toBe('expiry changed from 2026-06-30 to 2026-09-30');
    const back = await publish.agency(AGENCY_EVENT_TYPES.expiryChanged, { ...event, expiresOn: '2026-06-30' });
    await waitApplied(pg, doc, back);
    const again = await noticesOf(pg, doc);
    expect(again).toHaveLength(4);
    expect(
      again
        .filter((n) => n.status === 'planned')
        .map((n) => n.id)
        .sort(),
    ).toEqual(original.map((n) => n.id).sort());
  });

  it('late events: an expiry in 3 days gets one reminder now; an expiry already past gets none', async () => {
    scheduler.clock.set('2026-06-27T16:00:00Z'); // 11:00 in Bogota
    const soon = uniqueRef('LIC');
    await waitApplied(pg, soon, await publish.agency(AGENCY_EVENT_TYPES.expiring, expiringEvent(soon, '2026-06-30')));
    const notices = await noticesOf(pg, soon);
    expect(notices.map((n) => [n.slot, n.catch_up, iso(n.due_at)])).toEqual([['P1W', true, '2026-06-27T16:00:00.000Z']]);
    await scheduler.sweep();
    await waitFor(() => requestsIn(requests).some((r) => r.requestId === notices[0].id), {
      what: 'the catch-up request',
      timeoutMs: 30000,
    });

    const past = uniqueRef('LIC');
    await waitApplied(pg, past, await publish.agency(AGENCY_EVENT_TYPES.expiring, expiringEvent(past, '2026-06-26')));
    expect(await noticesOf(pg, past)).toEqual([]);
  });

  it('republishing the same event (same or new ce_id) changes nothing', async () => {
    scheduler.clock.set('2026-01-10T12:00:00Z');
    const doc = uniqueRef('LIC');
    const event = expiringEvent(doc, '2026-06-30');
    const id = await publish.agency(AGENCY_EVENT_TYPES.expiring, event);
    await waitApplied(pg, doc, id);
    const before = (await pg.query('SELECT id, status, due_at, updated_at FROM scheduler.notice WHERE ref = $1 ORDER BY id', [doc])).rows;
    scheduler.clock.set('2026-01-20T12:00:00Z');
    await publish.agency(AGENCY_EVENT_TYPES.expiring, event, { id }); // a redelivery
    const again = await publish.agency(AGENCY_EVENT_TYPES.expiring, event); // the agency sends it again
    await waitApplied(pg, doc, again);
    const after = (await pg.query('SELECT id, status, due_at, updated_at FROM scheduler.notice WHERE ref = $1 ORDER BY id', [doc])).rows;
    expect(after).toEqual(before);
  });

  it('dead-letters an invalid event with the reason, counts it for the agency, and takes the corrected one', async () => {
    const dlq = await tk.collect(dlqTopicName('notification-scheduler'));
    const raw = tk.kafka.producer();
    await raw.connect();
    const doc = uniqueRef('LIC');
    const bad = { ...expiringEvent(doc, '2026-02-30'), citizen: { subjectId: 'x', whatsapp: '3001112233' } };
    const ceId = randomUUID();
    await raw.send({
      topic: `${tk.prefix}${Topics.agencyEvent.name}`,
      messages: [
        {
          key: `roads-agency:${doc}`,
          value: JSON.stringify(bad),
          headers: {
            [CE.specversion]: '1.0',
            [CE.id]: ceId,
            [CE.type]: AGENCY_EVENT_TYPES.expiring,
            [CE.source]: '/agencies/roads/licensing',
            [CE.tenant]: 'roads-agency',
            [CE.contentType]: 'application/json',
          },
        },
      ],
    });
    await raw.disconnect();
    const record = await waitFor(() => dlq.records.find((r) => r.headers[CE.id] === ceId), { what: 'the DLQ record', timeoutMs: 60000 });
    expect(record.headers[RETRY_HEADERS.reason]).toBe('invalid-payload');
    expect(record.headers[RETRY_HEADERS.error]).toContain('expiresOn must be a calendar date');
    expect(record.headers[RETRY_HEADERS.error]).toContain('citizen.whatsapp must be E.164');
    const metrics = await (await fetch(`${scheduler.service.url}/metrics`)).text();
    expect(metrics).toMatch(
      /scheduler_agency_events_rejected_total\{[^}]*tenant="roads-agency"[^}]*type="agency\.document\.expiring\.v1"[^}]*reason="invalid-payload"[^}]*\} [1-9]/,
    );
    // The correction, republished (same ce_id is fine: the rejected record never reached the inbox).
    scheduler.clock.set('2026-01-10T12:00:00Z');
    await publish.agency(AGENCY_EVENT_TYPES.expiring, expiringEvent(doc, '2026-02-28'), { id: ceId });
    await waitApplied(pg, doc, ceId);
    expect((await noticesOf(pg, doc)).map((n) => n.slot)).toEqual(['P6W', 'P1W']);
  });

  it('dead-letters an event for a tenant that is not configured, counted as unknown', async () => {
    const doc = uniqueRef('LIC');
    const dlq = await tk.collect(dlqTopicName('notification-scheduler'));
    const id = await publish.agency(AGENCY_EVENT_TYPES.expiring, expiringEvent(doc, '2026-06-30', {}, 'nobody-agency'));
    const record = await waitFor(() => dlq.records.find((r) => r.headers[CE.id] === id), { what: 'the DLQ record', timeoutMs: 60000 });
    expect(record.headers[RETRY_HEADERS.reason]).toBe('non-retriable');
    expect(record.headers[RETRY_HEADERS.error]).toContain('nobody-agency is not in the tenants file');
    const metrics = await (await fetch(`${scheduler.service.url}/metrics`)).text();
    expect(metrics).toMatch(/scheduler_agency_events_rejected_total\{[^}]*tenant="unknown"[^}]*reason="non-retriable"[^}]*\} [1-9]/);
  });

  it('admin API: reads and edits the policy with the right roles; new events use it', async () => {
    expect((await api('/v1/scheduler/policy')).status).toBe(401);
    const read = await api('/v1/scheduler/policy', { roles: ['supervisor'] });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      tenantId: 'roads-agency',
      source: 'config',
      timeZone: 'America/Bogota',
      quietHours: { start: '08:00', end: '20:00' },
    });
    expect((read.body.notices as Record<string, { offsets: string[] }>).document_expiry.offsets).toEqual(['P6W', 'P1W']);

    const policy = { sendTime: '09:00', notices: { document_expiry: { template: 'document_expiring', offsets: ['P1M', 'P3D'] } } };
    expect((await api('/v1/scheduler/policy', { method: 'PUT', roles: ['supervisor'], body: JSON.stringify(policy) })).status).toBe(403);
    const invalid = await api('/v1/scheduler/policy', {
      method: 'PUT',
      roles: ['admin'],
      body: JSON.stringify({ notices: { document_expiry: { offsets: ['6 weeks'] } } }),
    });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).toContain('offsets must be durations like P6W');
    const put = await api('/v1/scheduler/policy', { method: 'PUT', roles: ['admin'], body: JSON.stringify(policy) });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ source: 'admin', version: 1 });
    const stale = await api('/v1/scheduler/policy?expectedVersion=7', { method: 'PUT', roles: ['admin'], body: JSON.stringify(policy) });
    expect(stale.status).toBe(409);

    scheduler.clock.set('2026-01-10T12:00:00Z');
    const doc = uniqueRef('LIC');
    await waitApplied(pg, doc, await publish.agency(AGENCY_EVENT_TYPES.expiring, expiringEvent(doc, '2026-03-31')));
    expect((await noticesOf(pg, doc)).map((n) => [n.slot, iso(n.due_at)])).toEqual([
      ['P1M', '2026-02-28T14:00:00.000Z'], // end of month, 09:00 Bogota
      ['P3D', '2026-03-28T14:00:00.000Z'],
    ]);
    const reset = await api('/v1/scheduler/policy', { method: 'DELETE', roles: ['admin'] });
    expect(reset.body).toMatchObject({ source: 'config' });
  });

  it('plan view API: what will be sent for a document and a citizen, tenant-scoped', async () => {
    scheduler.clock.set('2026-01-10T12:00:00Z');
    const doc = uniqueRef('LIC');
    const event = expiringEvent(doc, '2026-06-30', { timeZone: 'Europe/Madrid' });
    await waitApplied(pg, doc, await publish.agency(AGENCY_EVENT_TYPES.expiring, event));
    const list = await api(`/v1/scheduler/notices?documentId=${doc}&preview=true`, { roles: ['supervisor'] });
    expect(list.status).toBe(200);
    const notices = list.body.notices as Record<string, unknown>[];
    expect(notices.map((n) => [n.slot, n.status, n.dueAtLocal, n.timeZone])).toEqual([
      ['P6W', 'planned', '2026-05-19T10:00:00+02:00', 'Europe/Madrid'],
      ['P1W', 'planned', '2026-06-23T10:00:00+02:00', 'Europe/Madrid'],
    ]);
    expect(notices[0].to).not.toContain(event.citizen.whatsapp.slice(4, 10));
    expect(notices[0].preview).toEqual({
      template: 'document_expiring',
      language: 'es',
      text: { body: 'Hola Ana, su licencia de conducción vence el 30 de junio de 2026.' },
    });
    const byCitizen = await api(`/v1/scheduler/notices?subjectId=${event.citizen.subjectId}`, { roles: ['supervisor'] });
    expect((byCitizen.body.notices as unknown[]).length).toBe(2);
    const one = await api(`/v1/scheduler/notices/${notices[0].id}`, { roles: ['supervisor'] });
    expect(one.body).toMatchObject({ id: notices[0].id, documentId: doc });
    // Another agency's token sees none of it.
    expect((await api(`/v1/scheduler/notices?documentId=${doc}`, { roles: ['admin'], tenant: 'immigration-dept' })).body.notices).toEqual(
      [],
    );
    expect((await api(`/v1/scheduler/notices/${notices[0].id}`, { roles: ['admin'], tenant: 'immigration-dept' })).status).toBe(404);
    expect((await api('/v1/scheduler/notices', { roles: ['supervisor'] })).status).toBe(400);
  });
});
