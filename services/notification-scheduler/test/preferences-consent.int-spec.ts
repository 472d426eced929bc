import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import {
  CE,
  citizenKey,
  encodeTombstone,
  Topics,
  type CitizenConsentV1,
  type CitizenPreferenceV1,
  type DocumentExpiringV1,
} from '@wa/contracts';
import { DataSource } from 'typeorm';
import { dlqTopicName, EventProducer, RETRY_HEADERS } from '@wa/kafka';
import { createTestKafka, waitFor, type Collector, type TestKafka } from '@wa/testing';
import { AGENCY_EVENT_TYPES } from '../src/planning/plan';
import { preferenceRepository } from '../src/preferences/preference.repository';
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

const settle = () => new Promise((r) => setTimeout(r, 800));

describe('notification scheduler: the chatbot-chosen language and agency consent (real Kafka + Postgres)', () => {
  let tk: TestKafka;
  let scheduler: Scheduler;
  let producer: EventProducer;
  let publish: Publisher;
  let pg: Client;
  let requests: Collector;
  let outcomes: Collector;
  let consents: Collector;

  /** A roads-agency document expiring in 3 days (one catch-up notice due now), for this citizen. */
  async function dueNotice(citizen: Partial<DocumentExpiringV1['citizen']>): Promise<{ id: string; eventId: string }> {
    const doc = uniqueRef('LIC');
    const eventId = await publish.agency(AGENCY_EVENT_TYPES.expiring, expiringEvent(doc, '2026-06-30', citizen));
    await waitApplied(pg, doc, eventId);
    const notices = await noticesOf(pg, doc);
    expect(notices).toHaveLength(1);
    return { id: notices[0].id, eventId };
  }
  const requestsOf = (id: string) => requestsIn(requests).filter((r) => r.requestId === id);
  const outcomesOf = (id: string) => outcomesIn(outcomes).filter((o) => o.noticeId === id);
  const sentRequest = async (id: string) => {
    await scheduler.sweep();
    const [request] = await waitFor(() => (requestsOf(id).length ? requestsOf(id) : undefined), { what: 'request', timeoutMs: 30000 });
    return request;
  };
  const preference = (phone: string, language: string, chosenAt: string): CitizenPreferenceV1 => ({
    tenantId: 'roads-agency',
    citizenKey: citizenKey({ phone })!,
    contact: { phone },
    language,
    chosenAt,
    source: 'chatbot_menu',
  });
  const storedLanguage = async (phone: string) =>
    (await pg.query('SELECT language FROM scheduler.citizen_preference WHERE citizen_key = $1', [citizenKey({ phone })])).rows[0]
      ?.language as string | undefined;
  const consentState = async (phone: string, category: string) =>
    (await pg.query('SELECT state FROM scheduler.consent WHERE citizen_key = $1 AND category = $2', [citizenKey({ phone }), category]))
      .rows[0]?.state as string | undefined;

  beforeAll(async () => {
    tk = await createTestKafka('sched-prefs');
    scheduler = await startScheduler(tk, '2026-06-27T16:00:00Z');
    producer = new EventProducer(tk.kafka, tk.options, '/tests/scheduler');
    await producer.connect();
    publish = new Publisher(producer);
    pg = await pgClient(scheduler.service.db);
    requests = await tk.collect(Topics.outboundRequest.name);
    outcomes = await tk.collect(Topics.notificationOutcome.name);
    consents = await tk.collect(Topics.citizenConsent.name);
    await producer.publish(Topics.templateCatalog, catalogEntry('document_expiring', 'es'));
    await producer.publish(Topics.templateCatalog, catalogEntry('document_expiring', 'en'));
    await waitCatalog(pg, 'document_expiring', 'es', 'APPROVED');
    await waitCatalog(pg, 'document_expiring', 'en', 'APPROVED');
  });

  afterAll(async () => {
    await pg?.end();
    await producer?.disconnect();
    await scheduler?.service.close();
    await scheduler?.service.db.drop();
    await tk?.cleanup();
  });

  beforeEach(() => scheduler.clock.set('2026-06-27T16:00:00Z')); // 11:00 in Bogota

  it('an event without a language uses the language the citizen chose in the chatbot; without a choice, the tenant default', async () => {
    const phone = uniquePhone();
    await producer.publish(Topics.citizenPreference, preference(phone, 'en', '2026-06-20T10:00:00Z'));
    await waitFor(async () => (await storedLanguage(phone)) === 'en', { what: 'the stored choice', timeoutMs: 30000 });

    const chose = await dueNotice({ whatsapp: phone, preferredLanguage: undefined });
    const stranger = await dueNotice({ whatsapp: uniquePhone(), preferredLanguage: undefined });
    // The agency's own language still wins over the chatbot's.
    const named = await dueNotice({ whatsapp: phone, preferredLanguage: 'es' });
    expect((await sentRequest(chose.id)).template).toMatchObject({ name: 'document_expiring', language: 'en' });
    expect((await sentRequest(stranger.id)).template!.language).toBe('es');
    expect((await sentRequest(named.id)).template!.language).toBe('es');
  });

  it('the newest choice wins whatever the arrival order; a tombstone forgets it', async () => {
    const phone = uniquePhone();
    await producer.publish(Topics.citizenPreference, preference(phone, 'en', '2026-06-20T10:00:00Z'));
    await waitFor(async () => (await storedLanguage(phone)) === 'en', { what: 'the stored choice', timeoutMs: 30000 });
    // An older choice arriving later (a replay, a retried record) changes nothing; an equal or newer one does.
    const m = scheduler.service.app.get(DataSource).manager;
    await preferenceRepository.record(m, { ...preference(phone, 'fr', '2026-06-01T10:00:00Z') });
    expect(await storedLanguage(phone)).toBe('en');
    await preferenceRepository.record(m, { ...preference(phone, 'ar', '2026-06-21T10:00:00Z') });
    expect(await storedLanguage(phone)).toBe('ar');
    await preferenceRepository.record(m, { ...preference(phone, 'en', '2026-06-21T10:00:00Z') });
    expect(await storedLanguage(phone)).toBe('en');

    const key = `roads-agency:${citizenKey({ phone })}`;
    const raw = tk.kafka.producer();
    await raw.connect();
    await raw.send({
      topic: `${tk.prefix}${Topics.citizenPreference.name}`,
      messages: [encodeTombstone(Topics.citizenPreference, key, 'roads-agency', { source: '/tests' })],
    });
    await raw.disconnect();
    await waitFor(async () => (await storedLanguage(phone)) === undefined, { what: 'the choice forgotten', timeoutMs: 30000 });
    const { id } = await dueNotice({ whatsapp: phone, preferredLanguage: undefined });
    expect((await sentRequest(id)).template!.language).toBe('es');
  });

  it('an agency event carrying an opt-out: the notice is "opted_out", and citizen.consent.v1 carries the event as evidence', async () => {
    const phone = uniquePhone();
    const { id, eventId } = await dueNotice({
      whatsapp: phone,
      consent: { state: 'opted_out', category: 'utility', capturedAt: '2026-06-26T09:30:00Z', channel: 'web', reference: 'FORM-77' },
    });
    expect(await consentState(phone, 'utility')).toBe('opted_out'); // recorded with the plan, in its transaction
    await scheduler.sweep();
    const [outcome] = await waitFor(() => (outcomesOf(id).length ? outcomesOf(id) : undefined), { what: 'outcome', timeoutMs: 30000 });
    expect(outcome).toMatchObject({ outcome: 'opted_out', noticeId: id });
    const [published] = await waitFor(
      () => {
        const found = consents.records
          .map((r) => JSON.parse(r.value ?? 'null') as CitizenConsentV1 | null)
          .filter((c) => c?.contact.phone === phone);
        return found.length ? found : undefined;
      },
      { what: 'the published consent', timeoutMs: 30000 },
    );
    expect(published).toEqual({
      tenantId: 'roads-agency',
      contact: { phone },
      category: 'utility',
      state: 'opted_out',
      channel: 'web',
      occurredAt: '2026-06-26T09:30:00Z',
      evidence: { source: 'agency_event', eventId, reference: 'FORM-77', at: '2026-06-26T09:30:00Z' },
    });
    await settle();
    expect(requestsOf(id)).toEqual([]);
  });

  it('an agency opt-in after an earlier STOP lifts it and the notice is sent; an older opt-in does not', async () => {
    const phone = uniquePhone();
    const stop: CitizenConsentV1 = {
      tenantId: 'roads-agency',
      contact: { phone },
      category: 'all',
      state: 'opted_out',
      channel: 'whatsapp-keyword',
      wording: 'STOP',
      occurredAt: '2026-06-10T00:00:00Z',
      evidence: { source: 'chatbot_keyword', keyword: 'STOP', messageId: 'wamid.stop', at: '2026-06-10T00:00:00Z' },
    };
    await producer.publish(Topics.citizenConsent, stop);
    await waitFor(async () => (await consentState(phone, 'utility')) === 'opted_out', { what: 'the STOP', timeoutMs: 30000 });

    const older = await dueNotice({
      whatsapp: phone,
      consent: { state: 'opted_in', category: 'all', capturedAt: '2026-06-01T00:00:00Z', channel: 'paper' },
    });
    await scheduler.sweep();
    await waitFor(() => outcomesOf(older.id).some((o) => o.outcome === 'opted_out'), { what: 'still opted out', timeoutMs: 30000 });

    const newer = await dueNotice({
      whatsapp: phone,
      consent: { state: 'opted_in', category: 'all', capturedAt: '2026-06-20T00:00:00Z', channel: 'web' },
    });
    expect(await consentState(phone, 'utility')).toBe('opted_in');
    await sentRequest(newer.id);
  });

  it('an event whose consent is malformed is refused whole (dead-lettered), nothing planned or recorded', async () => {
    const phone = uniquePhone();
    const dlq = await tk.collect(dlqTopicName('notification-scheduler'));
    const doc = uniqueRef('LIC');
    const event = expiringEvent(doc, '2026-06-30', { whatsapp: phone });
    (event.citizen as unknown as Record<string, unknown>).consent = {
      state: 'maybe',
      category: 'utility',
      capturedAt: 'yesterday',
      channel: 'web',
    };
    const eventId = randomUUID();
    const raw = tk.kafka.producer();
    await raw.connect();
    await raw.send({
      topic: `${tk.prefix}${Topics.agencyEvent.name}`,
      messages: [
        {
          key: `roads-agency:${doc}`,
          value: JSON.stringify(event),
          headers: {
            [CE.specversion]: '1.0',
            [CE.id]: eventId,
            [CE.type]: AGENCY_EVENT_TYPES.expiring,
            [CE.source]: '/agencies/roads/licensing',
            [CE.tenant]: 'roads-agency',
            [CE.contentType]: 'application/json',
          },
        },
      ],
    });
    await raw.disconnect();
    const record = await waitFor(() => dlq.records.find((r) => r.headers[CE.id] === eventId), {
      what: 'the dead letter',
      timeoutMs: 60000,
    });
    expect(record.headers[RETRY_HEADERS.error]).toContain('citizen.consent.state');
    expect(record.headers[RETRY_HEADERS.error]).toContain('citizen.consent.capturedAt');
    expect(await noticesOf(pg, doc)).toEqual([]);
    expect(await consentState(phone, 'utility')).toBeUndefined();
  });
});
