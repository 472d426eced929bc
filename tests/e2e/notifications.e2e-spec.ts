import { waitFor, type Collector } from '@wa/testing';
import { Agency, colombianMobile, dateIn, emiratiMobile, http, messagesTo, outcomesOf, waitConsumed, type Json } from './support/drive';
import { attachStack, type E2EStack } from './support/stack';

/*
 * Agency notifications end to end, as a new user meets them after `npm run stack:up`: the webhook
 * ingress, the outbound gateway, the template registry and the notification scheduler as separate
 * processes, the Cloud API sandbox standing in for Meta. Nothing is set up behind the services'
 * backs: the registry loads its starter catalog and the sandbox approves it by webhook, the sandbox
 * posts the message statuses to the ingress, and every expectation is read from a public interface.
 */

// Processes on loaded cores: generous, but a stuck flow still fails well inside the run's budget.
jest.setTimeout(180_000);

const ROADS = { id: 'roads-agency', zone: 'America/Bogota', waba: '100000000000001' };
const IMMIGRATION = { id: 'immigration-dept', zone: 'Asia/Dubai', waba: '100000000000002' };
const SERVICES = ['webhook-ingress', 'outbound-gateway', 'template-registry', 'notification-scheduler', 'chatbot'] as const;

/** The starter templates the sandbox policies name (one source: policy-templates.spec.ts). */
const STARTER = ['document_expiring', 'payment_due', 'payment_received', 'documents_ready_collection', 'document_received'];
const LANGUAGES = ['es', 'en', 'ar', 'fr', 'pt_BR'];

let stack: E2EStack;
let agency: Agency;
let outcomes: Collector;
let catalog: Collector;
const token: Record<string, string> = {};

/** What the registry said last, for the message of a timeout. */
const registrySaid: Record<string, string> = {};

async function templatesApproved(tenant: string): Promise<boolean> {
  const { body } = await http(`${stack.url['template-registry']}/v1/templates`, { token: token[tenant] });
  const list = body as unknown as {
    name: string;
    translations: { language: string; status: string; submission: { state: string; lastError?: string } }[];
  }[];
  const states = list.flatMap((t) =>
    t.translations.map((l) => `${l.status}/${l.submission.state}${l.submission.lastError ? ` (${l.submission.lastError})` : ''}`),
  );
  registrySaid[tenant] = JSON.stringify(
    Object.entries(states.reduce<Record<string, number>>((n, s) => ({ ...n, [s]: (n[s] ?? 0) + 1 }), {})),
  );
  return STARTER.every((name) =>
    LANGUAGES.every((l) => list.find((t) => t.name === name)?.translations.find((t) => t.language === l)?.status === 'APPROVED'),
  );
}

/** The latest status of a translation on templates.catalog.v1 (what the senders read). */
function catalogStatus(tenant: string, name: string, language: string): string | undefined {
  const last = catalog.records.filter((r) => r.key === `${tenant}:${name}:${language}`).at(-1);
  return last?.value ? (JSON.parse(last.value) as { status: string }).status : undefined;
}

/**
 * Until the catalog topic says `status` for these translations and the scheduler and the gateway
 * have read every catalog record there is then (the registry publishes through its outbox, so the
 * registry's API may show a status a moment before the topic has it).
 */
async function catalogSettled(entries: [string, string, string][], status: string): Promise<void> {
  await waitFor(() => entries.every(([t, n, l]) => catalogStatus(t, n, l) === status), {
    timeoutMs: 60000,
    intervalMs: 200,
    what: `${status} on templates.catalog.v1 for ${entries.length} translations`,
  });
  await waitConsumed(stack, 'notification-scheduler', 'templates.catalog.v1');
  await waitConsumed(stack, 'outbound-gateway', 'templates.catalog.v1');
}

async function waitOutcomes(subjectId: string, wanted: string[], timeoutMs = 90000) {
  return waitFor(
    () => {
      const seen = outcomesOf(outcomes.records, subjectId);
      return wanted.every((w) => seen.some((o) => o.outcome === w)) ? seen : undefined;
    },
    {
      timeoutMs,
      intervalMs: 200,
      what: `(logs: ${stack.logDir}) outcomes ${wanted.join(', ')} of ${subjectId} (seen: ${JSON.stringify(outcomesOf(outcomes.records, subjectId).map((o) => [o.outcome, o.detail]))})`,
    },
  );
}

beforeAll(async () => {
  stack = attachStack();
  try {
    outcomes = await stack.kafka.collect('agency.notification.outcome.v1');
    catalog = await stack.kafka.collect('templates.catalog.v1');
    agency = new Agency(stack);
    await agency.connect();
    for (const t of [ROADS, IMMIGRATION]) token[t.id] = await stack.token(t.id, ['admin']);
    // The registry submits its starter catalog; the sandbox approves it by webhook.
    await waitFor(async () => (await templatesApproved(ROADS.id)) && (await templatesApproved(IMMIGRATION.id)), {
      timeoutMs: 150000,
      intervalMs: 500,
      what: 'the starter catalog approved for both tenants',
    }).catch((error: Error) => {
      throw new Error(`${error.message}; registry (status/submission: count): ${JSON.stringify(registrySaid)}; logs: ${stack.logDir}`);
    });
    stack.mark('notifications: starter catalog approved');
    await catalogSettled(
      [ROADS.id, IMMIGRATION.id].flatMap((t) => STARTER.flatMap((n) => LANGUAGES.map((l) => [t, n, l] as [string, string, string]))),
      'APPROVED',
    );
    stack.mark('notifications: catalog read by the scheduler and the gateway');
  } catch (error) {
    await Promise.allSettled([agency?.disconnect(), outcomes?.stop(), catalog?.stop()]);
    throw error;
  }
}, 240000);

afterAll(async () => {
  stack?.mark('notifications: done');
  // All at once: a consumer's disconnect waits out its current fetch. The processes stay up for
  // the other files; the global teardown stops them.
  const results = await Promise.allSettled([outcomes?.stop(), catalog?.stop(), agency?.disconnect()]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}, 60000);

describe('one error shape and one URL convention', () => {
  it('answers errors of every service as { code, message, details } under /v1', async () => {
    for (const name of SERVICES) {
      const base = stack.url[name];
      const missing = await http(`${base}/v1/no-such-resource`);
      expect([name, missing.status, Object.keys(missing.body).sort()]).toEqual([name, 404, ['code', 'message']]);
      expect((await http(`${base}/health/ready`)).status).toBe(200);
    }
    const anonymous = await http(`${stack.url['template-registry']}/v1/templates`);
    expect(anonymous).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    const badJson = await http(`${stack.url['template-registry']}/v1/templates`, { method: 'POST', token: token[ROADS.id], raw: '{oops' });
    expect(badJson).toMatchObject({ status: 400, body: { code: 'bad_request', message: expect.any(String) } });
  });
});

describe('the scheduling policy reads and writes one shape', () => {
  it('GET → edit → PUT works; a changed read-only field is refused with every problem named', async () => {
    for (const tenant of [ROADS, IMMIGRATION]) {
      const url = `${stack.url['notification-scheduler']}/v1/scheduler/policy`;
      const read = await http(url, { token: token[tenant.id] });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ tenantId: tenant.id, source: 'config', version: 0, timeZone: tenant.zone });
      expect((read.body.notices as Record<string, { template: string }>).document_expiry.template).toBe('document_expiring');

      const refused = await http(url, { method: 'PUT', token: token[tenant.id], body: { ...read.body, timeZone: 'Europe/Madrid' } });
      expect(refused.status).toBe(422);
      expect(refused.body).toEqual({
        code: 'invalid_policy',
        message: expect.any(String),
        details: ['timeZone: read-only (set in the tenant file); send it unchanged or leave it out'],
      });

      // No quiet hours, so the run does not depend on the time of day in Bogotá or Dubai.
      const edited = { ...read.body, quietHours: { start: '00:00', end: '00:00' } };
      const put = await http(url, { method: 'PUT', token: token[tenant.id], body: edited });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({ ...edited, source: 'admin', version: 1 });
      expect((await http(url, { token: token[tenant.id] })).body).toEqual(put.body);
      // The same body again is a lost update now: its version is 1 behind.
      expect((await http(url, { method: 'PUT', token: token[tenant.id], body: edited })).status).toBe(409);
    }
  });
});

describe('every agency event type, published as documented, reaches the citizen', () => {
  const ROADS_LICENSING = '/agencies/roads/licensing';
  const roadsCitizen = (name = 'Ana', extra: Json = {}) => ({
    subjectId: `CIT-${Math.random().toString(36).slice(2, 8)}`,
    whatsapp: colombianMobile(),
    name,
    ...extra,
  });
  const immigrationCitizen = (extra: Json = {}) => ({
    subjectId: `EID-784-${Math.random().toString().slice(2, 9)}`,
    whatsapp: emiratiMobile(),
    name: 'Fatima',
    ...extra,
  });
  const ref = (p: string) => `${p}-${Math.random().toString(36).slice(2, 10).toUpperCase()}`;

  interface Case {
    type: string;
    source: string;
    tenant: string;
    key: (p: Json) => string;
    payload: Json & { tenantId: string; citizen: { subjectId: string; whatsapp: string } };
    template: string;
    language: string;
  }
  const doc = (p: Json) => `${p.tenantId}:${(p.document as { documentId: string }).documentId}`;
  const reference = (p: Json) => `${p.tenantId}:${p.reference as string}`;

  const cases: Case[] = [
    {
      type: 'agency.document.expiring.v1',
      source: ROADS_LICENSING,
      tenant: ROADS.id,
      key: doc,
      payload: {
        tenantId: ROADS.id,
        citizen: roadsCitizen('Ana', { preferredLanguage: 'es' }),
        document: { documentId: ref('LIC'), documentType: 'driving_licence' },
        expiresOn: dateIn(ROADS.zone, 20),
        renewalUrl: 'https://roads.example.gov/renew',
        office: 'Oficina Central',
      },
      template: 'document_expiring',
      language: 'es',
    },
    {
      type: 'agency.document.expiry-changed.v1',
      source: '/agencies/immigration/residency',
      tenant: IMMIGRATION.id,
      key: doc,
      payload: {
        tenantId: IMMIGRATION.id,
        citizen: immigrationCitizen({ preferredLanguage: 'ar', timeZone: 'Asia/Dubai' }),
        document: { documentId: ref('VISA'), documentType: 'residence_visa' },
        expiresOn: dateIn(IMMIGRATION.zone, 25),
        previousExpiresOn: dateIn(IMMIGRATION.zone, 15),
        renewalUrl: 'https://immigration.example.gov/renew',
      },
      template: 'document_expiring',
      language: 'ar',
    },
    {
      type: 'agency.document.renewed.v1',
      source: ROADS_LICENSING,
      tenant: ROADS.id,
      key: doc,
      payload: {
        tenantId: ROADS.id,
        citizen: roadsCitizen(),
        document: { documentId: ref('LIC'), documentType: 'driving_licence' },
        newExpiresOn: dateIn(ROADS.zone, 20),
        renewedOn: dateIn(ROADS.zone, 0),
      },
      template: 'document_expiring',
      language: 'es',
    },
    {
      type: 'agency.payment.due.v1',
      source: '/agencies/roads/tax',
      tenant: ROADS.id,
      key: reference,
      payload: {
        tenantId: ROADS.id,
        citizen: roadsCitizen('Ana', { preferredLanguage: 'es' }),
        reference: ref('TAX'),
        amount: '125500.00',
        currency: 'COP',
        dueOn: dateIn(ROADS.zone, 2),
        description: 'Impuesto vehicular',
        paymentUrl: 'https://roads.example.gov/pay/TAX-2026-55501',
      },
      template: 'payment_due',
      language: 'es',
    },
    {
      type: 'agency.payment.received.v1',
      source: '/agencies/roads/tax',
      tenant: ROADS.id,
      key: reference,
      payload: {
        tenantId: ROADS.id,
        citizen: roadsCitizen(),
        reference: ref('TAX'),
        amount: '125500.00',
        currency: 'COP',
        receivedAt: new Date().toISOString(),
      },
      template: 'payment_received',
      language: 'es',
    },
    {
      type: 'agency.documents.ready.v1',
      source: ROADS_LICENSING,
      tenant: ROADS.id,
      key: reference,
      payload: {
        tenantId: ROADS.id,
        citizen: roadsCitizen(),
        reference: ref('COL'),
        mode: 'collection',
        document: { documentId: ref('LIC'), documentType: 'driving_licence' },
        location: 'Oficina Central, ventanilla 4',
        availableUntil: dateIn(ROADS.zone, 30),
      },
      template: 'documents_ready_collection',
      language: 'es',
    },
    {
      type: 'agency.application.received.v1',
      source: '/agencies/immigration/residency',
      tenant: IMMIGRATION.id,
      key: reference,
      payload: {
        tenantId: IMMIGRATION.id,
        citizen: immigrationCitizen({ preferredLanguage: 'en' }),
        reference: ref('APP'),
        applicationType: 'Residence visa renewal',
        receivedAt: new Date().toISOString(),
      },
      template: 'document_received',
      language: 'en',
    },
  ];

  it('each as its template in the citizen’s language; statuses come back as sent, delivered, read', async () => {
    for (const c of cases) await agency.publish(c.type, c.source, c.key(c.payload), c.payload);
    for (const c of cases) {
      const { subjectId, whatsapp } = c.payload.citizen;
      const seen = await waitOutcomes(subjectId, ['sent', 'delivered', 'read']);
      expect([c.type, seen.filter((o) => o.outcome === 'sent').map((o) => [o.templateName, o.language])]).toEqual([
        c.type,
        [[c.template, c.language]],
      ]);
      const [message, ...more] = await messagesTo(stack, whatsapp);
      expect(more).toEqual([]);
      expect([c.type, message.type, message.payload.template]).toMatchObject([
        c.type,
        'template',
        { name: c.template, language: { code: c.language } },
      ]);
      // The first greeting parameter is the citizen's name, as the agency gave it.
      expect(JSON.stringify(message.payload.template)).toContain(c.payload.citizen.subjectId.startsWith('EID') ? 'Fatima' : 'Ana');
    }
  });

  it('a cancelled document: its pending reminders are cancelled and nothing is sent', async () => {
    const payload = {
      tenantId: ROADS.id,
      citizen: roadsCitizen('Ana', { preferredLanguage: 'es' }),
      document: { documentId: ref('LIC'), documentType: 'driving_licence' },
      expiresOn: dateIn(ROADS.zone, 120),
    };
    await agency.publish('agency.document.expiring.v1', ROADS_LICENSING, doc(payload), payload);
    const notices = `${stack.url['notification-scheduler']}/v1/scheduler/notices?documentId=${payload.document.documentId}`;
    const planned = await waitFor(
      async () => {
        const list = (await http(notices, { token: token[ROADS.id] })).body.notices as { slot: string; status: string }[] | undefined;
        return list?.length === 2 ? list : undefined;
      },
      { timeoutMs: 30000, what: 'two reminders planned' },
    );
    expect(planned.map((n) => [n.slot, n.status])).toEqual([
      ['P6W', 'planned'],
      ['P1W', 'planned'],
    ]);
    const cancelled = { tenantId: ROADS.id, citizen: payload.citizen, document: payload.document, reason: 'revoked' };
    await agency.publish('agency.document.cancelled.v1', ROADS_LICENSING, doc(cancelled), cancelled);
    await waitFor(
      async () => {
        const list = (await http(notices, { token: token[ROADS.id] })).body.notices as { status: string }[];
        return list.every((n) => n.status === 'cancelled');
      },
      { timeoutMs: 30000, what: 'the reminders cancelled' },
    );
    expect(await messagesTo(stack, payload.citizen.whatsapp)).toEqual([]);
  });
});

describe('when the citizen cannot be reached', () => {
  const receipt = (tenantId: string, citizen: { subjectId: string; whatsapp: string } & Json) => ({
    tenantId,
    citizen,
    reference: `APP-${Math.random().toString(36).slice(2, 10)}`,
    applicationType: 'Licence renewal',
    receivedAt: new Date().toISOString(),
  });

  it('a number on the sandbox’s not-on-WhatsApp list → not_on_whatsapp (131026)', async () => {
    const citizen = { subjectId: 'CIT-NOWA', whatsapp: colombianMobile(), name: 'Ana' };
    expect(
      (await http(`${stack.sandboxUrl}/sandbox/messages/not-on-whatsapp`, { method: 'POST', body: { numbers: [citizen.whatsapp] } }))
        .status,
    ).toBe(200);
    const event = receipt(ROADS.id, citizen);
    await agency.publish('agency.application.received.v1', '/agencies/roads/licensing', `${ROADS.id}:${event.reference}`, event);
    const [outcome] = (await waitOutcomes(citizen.subjectId, ['not_on_whatsapp'])).filter((o) => o.outcome === 'not_on_whatsapp');
    expect(outcome).toMatchObject({ errorCode: '131026', templateName: 'document_received', language: 'es' });
  });

  it('a template Meta paused (status webhook) → no_approved_template, saying why', async () => {
    const paused = await http(`${stack.sandboxUrl}/sandbox/templates/events`, {
      method: 'POST',
      body: {
        wabaId: IMMIGRATION.waba,
        name: 'document_received',
        language: 'ar',
        event: 'PAUSED',
        otherInfo: { title: 'FIRST_PAUSE', description: 'Paused for 3 hours: low quality.' },
      },
    });
    expect(paused.status).toBe(200);
    const translation = `${stack.url['template-registry']}/v1/templates/document_received/languages/ar`;
    await waitFor(async () => (await http(translation, { token: token[IMMIGRATION.id] })).body.status === 'PAUSED', {
      timeoutMs: 30000,
      what: 'the registry to see the pause',
    });
    expect((await http(translation, { token: token[IMMIGRATION.id] })).body).toMatchObject({ status: 'PAUSED', reason: 'FIRST_PAUSE' });
    await catalogSettled([[IMMIGRATION.id, 'document_received', 'ar']], 'PAUSED');

    const citizen = { subjectId: 'EID-PAUSED', whatsapp: emiratiMobile(), name: 'Fatima', preferredLanguage: 'ar' };
    const event = receipt(IMMIGRATION.id, citizen);
    await agency.publish(
      'agency.application.received.v1',
      '/agencies/immigration/residency',
      `${IMMIGRATION.id}:${event.reference}`,
      event,
    );
    const [outcome] = (await waitOutcomes(citizen.subjectId, ['no_approved_template'])).filter((o) => o.outcome === 'no_approved_template');
    expect(outcome).toMatchObject({ templateName: 'document_received', detail: 'document_received: ar: PAUSED' });
    expect(await messagesTo(stack, citizen.whatsapp)).toEqual([]);
  });

  it('a citizen who writes BAJA to the chatbot → opted_out and no notice; ALTA → the next notice is sent', async () => {
    const citizen = { subjectId: 'CIT-STOP-START', whatsapp: colombianMobile(), name: 'Ana' };
    const say = async (text: string) => {
      const sent = await http(`${stack.sandboxUrl}/sandbox/inbound/messages`, {
        method: 'POST',
        body: { tenant: ROADS.id, from: citizen.whatsapp, profileName: citizen.name, type: 'text', text },
      });
      expect(sent.status).toBe(200);
    };
    const phoneShows = (count: number) =>
      waitFor(
        async () => {
          const got = await messagesTo(stack, citizen.whatsapp);
          return got.length >= count ? got : undefined;
        },
        { timeoutMs: 60000, intervalMs: 250, what: `${count} message(s) at the sandbox for the citizen (logs: ${stack.logDir})` },
      );
    const templatesShown = async () => (await messagesTo(stack, citizen.whatsapp)).filter((m) => m.type === 'template');

    // The chatbot confirms in the citizen's language; its consent event left in the same transaction.
    await say('BAJA');
    await phoneShows(1);
    await waitConsumed(stack, 'notification-scheduler', 'citizen.consent.v1');
    const first = receipt(ROADS.id, citizen);
    await agency.publish('agency.application.received.v1', '/agencies/roads/licensing', `${ROADS.id}:${first.reference}`, first);
    await waitOutcomes(citizen.subjectId, ['opted_out']);
    expect(await templatesShown()).toEqual([]);

    await say('ALTA');
    await phoneShows(2);
    await waitConsumed(stack, 'notification-scheduler', 'citizen.consent.v1');
    const second = receipt(ROADS.id, citizen);
    await agency.publish('agency.application.received.v1', '/agencies/roads/licensing', `${ROADS.id}:${second.reference}`, second);
    await waitOutcomes(citizen.subjectId, ['opted_out', 'sent']);
    // Delivery outcomes (delivered, read) may follow the sent one.
    const seen = outcomesOf(outcomes.records, citizen.subjectId).map((o) => o.outcome);
    expect(seen.slice(0, 2)).toEqual(['opted_out', 'sent']);
    expect(seen.filter((o) => o === 'opted_out' || o === 'sent')).toEqual(['opted_out', 'sent']);
    const [notice] = await waitFor(async () => ((await templatesShown()).length ? templatesShown() : undefined), {
      timeoutMs: 30000,
      what: 'the notice at the sandbox',
    });
    expect(notice.payload).toMatchObject({ template: { name: 'document_received', language: { code: 'es' } } });
  });

  it('a citizen who opted out (citizen.consent.v1) → opted_out', async () => {
    const citizen = { subjectId: 'CIT-OPTOUT', whatsapp: colombianMobile(), name: 'Ana' };
    await agency.consent({
      tenantId: ROADS.id,
      contact: { phone: citizen.whatsapp },
      category: 'utility',
      state: 'opted_out',
      channel: 'web',
      occurredAt: new Date().toISOString(),
    });
    await waitConsumed(stack, 'notification-scheduler', 'citizen.consent.v1');
    const event = receipt(ROADS.id, citizen);
    await agency.publish('agency.application.received.v1', '/agencies/roads/licensing', `${ROADS.id}:${event.reference}`, event);
    await waitOutcomes(citizen.subjectId, ['opted_out']);
    expect(outcomesOf(outcomes.records, citizen.subjectId).map((o) => o.outcome)).toEqual(['opted_out']);
    expect(await messagesTo(stack, citizen.whatsapp)).toEqual([]);
  });
});
