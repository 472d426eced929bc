/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { Client } from 'pg';
import { Topics, type AccountEventV1, type OutboundResultV1 } from '@wa/contracts';
import { replyRequestId } from '@wa/conversation';
import { EventProducer } from '@wa/kafka';
import { createTestKafka, waitFor, type Collector, type TestKafka, type TestService } from '@wa/testing';
import type { SweeperService } from '../src/timeouts/sweeper.service';
import {
  api,
  cases,
  citizen,
  Citizen,
  consents,
  forwarded,
  handoffs,
  outbound,
  ownerChanges,
  ROADS,
  shown,
  startChatbot,
  startMediaStub,
  TEST_FLOW,
  token,
  type MediaStub,
} from './support';

const TIMEOUT = 60000;

describe('chatbot conversations (real Kafka + Postgres)', () => {
  let tk: TestKafka;
  let media: MediaStub;
  let service: TestService;
  let sweeper: SweeperService;
  let producer: EventProducer;
  let pg: Client;
  const c: Record<string, Collector> = {};

  /** Waits until the citizen has received `n` messages; returns what they read, in order. */
  async function readBy(waId: string, n: number): Promise<string[]> {
    const got = await waitFor(() => (outbound(c.requests, waId).length >= n ? outbound(c.requests, waId) : undefined), {
      what: `${n} messages to ${waId}`,
      timeoutMs: TIMEOUT,
    }).catch((error: Error) => {
      throw new Error(`${error.message}; read so far: ${JSON.stringify(outbound(c.requests, waId).map(shown))}`);
    });
    return got.map(shown);
  }

  /** Answers written for a citizen (committed with the turn, whether or not relayed yet). */
  async function answersWritten(waId: string): Promise<number> {
    const r = await pg.query(`SELECT count(*)::int AS n FROM chatbot.outbox WHERE topic = $1 AND key = $2`, [
      Topics.outboundRequest.name,
      `${ROADS.tenantId}:${waId}`,
    ]);
    return r.rows[0].n;
  }

  async function ownerOf(waId: string): Promise<string | undefined> {
    const r = await pg.query(`SELECT owner FROM chatbot.conversation_owner WHERE citizen_key = $1`, [waId]);
    return r.rows[0]?.owner;
  }

  beforeAll(async () => {
    tk = await createTestKafka('chatbot-conv');
    media = await startMediaStub();
    ({ service, sweeper } = await startChatbot(tk, { MEDIA_API_URL: media.url }));
    producer = new EventProducer(tk.kafka, tk.options, '/tests/chatbot');
    await producer.connect();
    pg = new Client({ connectionString: service.db.adminUrl });
    await pg.connect();
    for (const [name, topic] of Object.entries({
      requests: Topics.outboundRequest.name,
      consents: Topics.citizenConsent.name,
      handoffs: Topics.handoffRequest.name,
      forwarded: Topics.handoffMessage.name,
      owners: Topics.conversationOwner.name,
      cases: Topics.agencyCase.name,
      dlq: 'chatbot.dlq',
    })) {
      c[name] = await tk.collect(topic);
    }
    const editor = api(service.url, await token(ROADS.tenantId, ['flow-editor']));
    expect((await editor.put('/v1/flows/main/draft', TEST_FLOW)).status).toBe(200);
    expect((await editor.post('/v1/flows/main/publish')).status).toBe(200);
  });

  afterAll(async () => {
    await pg?.end();
    await producer?.disconnect();
    await service?.close();
    await service?.db.drop();
    await media?.close();
    await tk?.cleanup();
  });

  it('a Spanish conversation: menu by number, by title and by list and button reply ids', async () => {
    const ana = new Citizen(producer, citizen('57'));
    await ana.text('hola');
    expect((await readBy(ana.waId, 1))[0]).toMatch(
      /^¿En qué le podemos ayudar\?.*\[Reportar un problema \| Horarios \| Consultar placa \| Hablar con alguien\]$/s,
    );
    await ana.text('2');
    expect((await readBy(ana.waId, 3)).slice(1)).toEqual([expect.stringMatching(/^Atendemos de 8:00/), expect.stringMatching(/^¿En qué/)]);
    await ana.text('horarios');
    expect((await readBy(ana.waId, 5))[3]).toMatch(/^Atendemos/);
    await ana.reply('report', 'Reportar un problema', 'list_reply');
    expect((await readBy(ana.waId, 6))[5]).toMatch(/^¿Qué tipo de problema\?.*\[Bache \| Alumbrado \| Otro\]$/s);
    await ana.reply('light', 'Alumbrado');
    expect((await readBy(ana.waId, 7))[6]).toBe('Envíe una foto del problema.');
    const requests = outbound(c.requests, ana.waId);
    expect(requests.every((r) => r.requestedBy === 'chatbot' && r.priority === 'reply' && r.phoneNumberId === ROADS.phoneNumberId)).toBe(
      true,
    );
  });

  it('an Arabic conversation (guessed from the number): Eastern Arabic digits and titles', async () => {
    const fatima = new Citizen(producer, citizen('971'));
    await fatima.text('مرحبا');
    expect((await readBy(fatima.waId, 1))[0]).toMatch(/^كيف يمكننا مساعدتك؟.*الإبلاغ عن مشكلة/s);
    await fatima.text('٢');
    expect((await readBy(fatima.waId, 3))[1]).toBe('نعمل من 8:00 إلى 17:00.');
    await fatima.text('الاستعلام عن لوحة');
    expect((await readBy(fatima.waId, 4))[3]).toBe('اكتب رقم اللوحة (أرقام فقط).');
    await fatima.text('٤٥٦');
    expect((await readBy(fatima.waId, 5))[4]).toBe('اللوحة 456 بدون مخالفات.');
  });

  it('a problem report with a photo and a location opens a case; the reference is in the reply', async () => {
    const luis = new Citizen(producer, citizen('57'));
    await luis.text('hola');
    await readBy(luis.waId, 1);
    await luis.text('1');
    await readBy(luis.waId, 2);
    await luis.text('bache');
    await readBy(luis.waId, 3);
    await luis.image('photo-123');
    expect((await readBy(luis.waId, 4))[3]).toBe('Comparta la ubicación del problema.');
    await luis.location(4.65, -74.05);
    const confirmation = (await readBy(luis.waId, 5))[4];
    const reference = /Su reporte es (RD-\d{4}-\d{6})\./.exec(confirmation)?.[1];
    expect(reference).toMatch(new RegExp(`^RD-${new Date().getUTCFullYear()}-\\d{6}$`));
    const [opened] = await waitFor(() => (cases(c.cases, luis.waId).length ? cases(c.cases, luis.waId) : undefined), {
      what: 'agency.case.v1',
      timeoutMs: TIMEOUT,
    });
    expect(opened).toMatchObject({
      tenantId: ROADS.tenantId,
      caseType: 'road_problem',
      reference,
      citizenKey: luis.waId,
      language: 'es',
      flow: 'main',
      fields: { 'report.photo': 'media:roads-agency/photo-123', 'report.location': { latitude: 4.65, longitude: -74.05 } },
    });
    // The photo was fetched at once, through the ingress's media API, for the right tenant and number.
    expect(media.calls).toContainEqual({ mediaId: 'photo-123', tenant: ROADS.tenantId, phoneNumberId: ROADS.phoneNumberId });
  });

  it('a photo the media API cannot fetch is asked for again', async () => {
    const eva = new Citizen(producer, citizen('57'));
    for (const [i, send] of [() => eva.text('hola'), () => eva.text('1'), () => eva.text('otro')].entries()) {
      await send();
      await readBy(eva.waId, i + 1);
    }
    await eva.image('gone-1');
    expect((await readBy(eva.waId, 4))[3]).toMatch(/No pudimos recibir su archivo/);
    await eva.image('photo-2');
    expect((await readBy(eva.waId, 5))[4]).toBe('Comparta la ubicación del problema.');
  });

  it('bad answers re-prompt, then the flow falls back', async () => {
    const pedro = new Citizen(producer, citizen('57'));
    await pedro.text('hola');
    await readBy(pedro.waId, 1);
    await pedro.text('3');
    expect((await readBy(pedro.waId, 2))[1]).toBe('Escriba el número de placa (solo cifras).');
    await pedro.text('abc');
    expect((await readBy(pedro.waId, 3))[2]).toBe('Solo cifras, por favor.');
    await pedro.text('xyz');
    expect((await readBy(pedro.waId, 4))[3]).toBe('Solo cifras, por favor.');
    await pedro.text('???');
    const read = await readBy(pedro.waId, 6);
    expect(read.slice(4)).toEqual(['No pudimos leer la placa.', expect.stringMatching(/^¿En qué le podemos ayudar/)]);
  });

  it('STOP/BAJA opts out of everything with evidence and a confirmation; START/ALTA opts back in', async () => {
    const rosa = new Citizen(producer, citizen('57'));
    const stop = await rosa.text('BAJA');
    expect((await readBy(rosa.waId, 1))[0]).toMatch(/no le enviaremos más mensajes/);
    await rosa.text('alta');
    expect((await readBy(rosa.waId, 2))[1]).toMatch(/volverá a recibir/);
    const got = await waitFor(() => (consents(c.consents, rosa.waId).length >= 2 ? consents(c.consents, rosa.waId) : undefined), {
      what: 'two consent events',
      timeoutMs: TIMEOUT,
    });
    expect(got[0]).toMatchObject({
      tenantId: ROADS.tenantId,
      contact: { waId: rosa.waId },
      category: 'all',
      state: 'opted_out',
      channel: 'whatsapp-keyword',
      evidence: { source: 'chatbot_keyword', keyword: 'BAJA', messageId: stop },
    });
    expect(got[1]).toMatchObject({ category: 'all', state: 'opted_in', evidence: { keyword: 'alta' } });
  });

  it('handoff: request and owner change, silence while an agent owns it, STOP still works, the bot resumes after release', async () => {
    const juan = new Citizen(producer, citizen('57'));
    await juan.text('hola');
    await readBy(juan.waId, 1);
    await juan.text('agente');
    expect((await readBy(juan.waId, 2))[1]).toMatch(/Una persona de nuestro equipo le responderá/);
    const [request] = await waitFor(() => (handoffs(c.handoffs, juan.waId).length ? handoffs(c.handoffs, juan.waId) : undefined), {
      what: 'handoff.request.v1',
      timeoutMs: TIMEOUT,
    });
    expect(request).toMatchObject({
      citizenKey: juan.waId,
      department: 'roads_desk',
      language: 'es',
      reason: 'asked_for_agent',
      priority: 0,
    });
    expect(request.transcript.map((l) => l.author)).toEqual(['citizen', 'bot', 'citizen', 'bot']);
    expect(request.transcript[2].text).toBe('agente');
    const conversationId = request.conversationId;
    const [change] = await waitFor(() => (ownerChanges(c.owners, juan.waId).length ? ownerChanges(c.owners, juan.waId) : undefined), {
      what: 'conversation.owner.v1',
      timeoutMs: TIMEOUT,
    });
    expect(change).toMatchObject({ change: 'handoff_requested', conversationId, changedBy: 'chatbot', department: 'roads_desk' });

    // Queued: the citizen's messages go to the agent side, the bot stays silent.
    await juan.text('¿hay alguien?');
    await waitFor(() => forwarded(c.forwarded, juan.waId).length === 1, { what: 'forwarded while queued', timeoutMs: TIMEOUT });
    expect(forwarded(c.forwarded, juan.waId)[0]).toMatchObject({ conversationId, line: { author: 'citizen', text: '¿hay alguien?' } });
    expect(await answersWritten(juan.waId)).toBe(2);

    // The router assigns an agent.
    const router = (change: string, extra: object = {}) =>
      producer.publish(Topics.conversationOwner, {
        tenantId: ROADS.tenantId,
        citizenKey: juan.waId,
        contact: { waId: juan.waId },
        conversationId,
        change,
        changedBy: 'handoff-router',
        occurredAt: new Date().toISOString(),
        ...extra,
      });
    await router('assigned', { agentId: 'agent-7' });
    await waitFor(async () => (await ownerOf(juan.waId)) === 'agent', { what: 'agent owns it', timeoutMs: TIMEOUT });
    await juan.reply('report', 'Reportar un problema', 'list_reply');
    await waitFor(() => forwarded(c.forwarded, juan.waId).length === 2, { what: 'forwarded to the agent', timeoutMs: TIMEOUT });
    expect(await answersWritten(juan.waId)).toBe(2);

    // STOP works while an agent owns the conversation (and the agent sees it).
    await juan.text('STOP');
    expect((await readBy(juan.waId, 3))[2]).toMatch(/no le enviaremos más mensajes/);
    await waitFor(() => forwarded(c.forwarded, juan.waId).length === 3, { what: 'STOP forwarded', timeoutMs: TIMEOUT });

    // The agent closes: the bot says it is back, in Spanish, and answers again.
    await router('released', { reason: 'agent_closed' });
    expect((await readBy(juan.waId, 4))[3]).toMatch(/^La conversación con nuestro equipo terminó/);
    await juan.text('menú');
    expect((await readBy(juan.waId, 5))[4]).toMatch(/^¿En qué le podemos ayudar/);
    expect(forwarded(c.forwarded, juan.waId)).toHaveLength(3);
  });

  it('an agent closing after the 24-hour window has closed sends nothing', async () => {
    const mia = new Citizen(producer, citizen('57'));
    await mia.text('agente');
    await readBy(mia.waId, 1);
    const [request] = await waitFor(() => (handoffs(c.handoffs, mia.waId).length ? handoffs(c.handoffs, mia.waId) : undefined), {
      what: 'handoff.request.v1',
      timeoutMs: TIMEOUT,
    });
    await pg.query(`UPDATE chatbot.citizen_profile SET last_inbound_at = now() - interval '25 hours' WHERE citizen_key = $1`, [mia.waId]);
    await producer.publish(Topics.conversationOwner, {
      tenantId: ROADS.tenantId,
      citizenKey: mia.waId,
      contact: { waId: mia.waId },
      conversationId: request.conversationId,
      change: 'released',
      changedBy: 'handoff-router',
      occurredAt: new Date().toISOString(),
    });
    await waitFor(async () => (await ownerOf(mia.waId)) === 'bot', { what: 'the bot owns it again', timeoutMs: TIMEOUT });
    expect(await answersWritten(mia.waId)).toBe(1);
  });

  it('a redelivered inbound is answered once; two quick messages are answered in order', async () => {
    const sara = new Citizen(producer, citizen('57'));
    const first = await sara.text('hola', `wamid.dup-${sara.waId}`);
    await sara.text('hola', first); // the same wamid again (a webhook retry that passed the ingress)
    await sara.text('2');
    await sara.text('4');
    const read = await readBy(sara.waId, 4);
    expect(read[0]).toMatch(/^¿En qué/);
    expect(read.slice(1, 3)).toEqual([expect.stringMatching(/^Atendemos/), expect.stringMatching(/^¿En qué/)]);
    expect(read[3]).toMatch(/Una persona de nuestro equipo/);
    const requests = outbound(c.requests, sara.waId);
    expect(requests[0].requestId).toBe(replyRequestId(ROADS.tenantId, first, 0));
    expect(requests.filter((r) => r.requestId === replyRequestId(ROADS.tenantId, first, 0))).toHaveLength(1);
    expect(await answersWritten(sara.waId)).toBe(4);
    const offsets = c.requests.records.filter((r) => r.key === `${ROADS.tenantId}:${sara.waId}`).map((r) => BigInt(r.offset));
    expect([...offsets].sort((a, b) => (a < b ? -1 : 1))).toEqual(offsets);
  });

  it('stickers get a polite answer; reactions are not answered', async () => {
    const leo = new Citizen(producer, citizen('57'));
    await leo.text('hola');
    await readBy(leo.waId, 1);
    await leo.reaction('wamid.ours');
    await leo.sticker();
    const read = await readBy(leo.waId, 3);
    expect(read[1]).toMatch(/no puedo leer este tipo de mensaje/);
    expect(read[2]).toMatch(/^¿En qué/);
    expect(await answersWritten(leo.waId)).toBe(3);
  });

  it('a question nobody answers times out through the sweeper while the window is open', async () => {
    const tom = new Citizen(producer, citizen('57'));
    await tom.text('hola');
    await readBy(tom.waId, 1);
    await tom.text('3');
    await readBy(tom.waId, 2);
    const r = await pg.query(`SELECT timeout_at FROM chatbot.session WHERE citizen_key = $1`, [tom.waId]);
    expect(r.rows[0].timeout_at.getTime()).toBeGreaterThan(Date.now() + 25 * 60_000);
    // Two sweepers at once (two replicas): the session is claimed by one of them only.
    const later = () => new Date(Date.now() + 31 * 60_000);
    const [a, b] = await Promise.all([sweeper.sweep(later), sweeper.sweep(later)]);
    expect(a + b).toBeGreaterThanOrEqual(1);
    expect((await readBy(tom.waId, 3))[2]).toBe('No recibimos respuesta; escriba cuando quiera.');
    expect(await answersWritten(tom.waId)).toBe(3);
    expect((await pg.query(`SELECT 1 FROM chatbot.session WHERE citizen_key = $1`, [tom.waId])).rowCount).toBe(0);

    // Past the 24-hour window: the session ends without a word.
    const zoe = new Citizen(producer, citizen('57'));
    await zoe.text('hola');
    await readBy(zoe.waId, 1);
    await zoe.text('3');
    await readBy(zoe.waId, 2);
    await pg.query(`UPDATE chatbot.citizen_profile SET last_inbound_at = now() - interval '25 hours' WHERE citizen_key = $1`, [zoe.waId]);
    await sweeper.sweep(() => new Date(Date.now() + 31 * 60_000));
    expect((await pg.query(`SELECT 1 FROM chatbot.session WHERE citizen_key = $1`, [zoe.waId])).rowCount).toBe(0);
    expect(await answersWritten(zoe.waId)).toBe(2);
  });

  it("Meta's marketing stop/resume becomes marketing consent", async () => {
    const waId = citizen('57');
    const event = (value: string): AccountEventV1 => ({
      tenantId: ROADS.tenantId,
      wabaId: '100000000000001',
      field: 'user_preferences',
      kind: 'user_preference',
      event: value,
      reason: 'marketing_messages',
      occurredAt: new Date().toISOString(),
      details: { wa_id: waId, detail: 'User requested to stop marketing messages', category: 'marketing_messages', value },
    });
    await producer.publish(Topics.accountEvent, event('stop'));
    await producer.publish(Topics.accountEvent, event('resume'));
    const got = await waitFor(() => (consents(c.consents, waId).length >= 2 ? consents(c.consents, waId) : undefined), {
      what: 'marketing consent',
      timeoutMs: TIMEOUT,
    });
    expect(got.map((e) => [e.category, e.state, e.channel])).toEqual([
      ['marketing', 'opted_out', 'meta-user-preferences'],
      ['marketing', 'opted_in', 'meta-user-preferences'],
    ]);
  });

  it('counts its own failed answers by reason and ignores other services’ results', async () => {
    const result = (requestedBy: string, reason: OutboundResultV1['reason']): OutboundResultV1 => ({
      tenantId: ROADS.tenantId,
      requestId: replyRequestId(ROADS.tenantId, `wamid.${requestedBy}`, 0),
      outcome: 'failed',
      reason,
      attempts: 1,
      requestedBy,
      decidedAt: new Date().toISOString(),
    });
    await producer.publish(Topics.outboundResult, result('notification-scheduler', 'opted-out'));
    await producer.publish(Topics.outboundResult, result('chatbot', 'window-closed'));
    await waitFor(
      async () =>
        /chatbot_reply_failures_total\{tenant="roads-agency",reason="window-closed"[^}]*\} 1/.test(
          await (await fetch(`${service.url}/metrics`)).text(),
        ),
      { what: 'the failure metric', timeoutMs: TIMEOUT },
    ).catch(async (error: Error) => {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      throw new Error(
        `${error.message}: ${text
          .split('\n')
          .filter((l) => /chatbot_|kafka_consumed/.test(l))
          .join('\n')}`,
      );
    });
    expect(await (await fetch(`${service.url}/metrics`)).text()).not.toMatch(/reason="opted-out"/);
  });

  it('a message of an unknown tenant ends in the DLQ with the reason', async () => {
    const ghost = new Citizen(producer, citizen('57'), { tenantId: 'ghost-agency', phoneNumberId: '319999999999999' });
    await ghost.text('hola');
    const dead = await waitFor(() => c.dlq.records.find((r) => r.key === `ghost-agency:${ghost.waId}`), {
      what: 'DLQ record',
      timeoutMs: TIMEOUT,
    });
    expect(dead.headers['x-dlq-reason']).toBe('non-retriable');
    expect(dead.headers['x-error']).toMatch(/tenant ghost-agency is not configured/);
  });
});
