/**
 * @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs
 */
import { randomUUID } from 'node:crypto';
import { mintSandboxToken, type Role } from '@wa/auth';
import { Topics, type HandoffRequestV1, type OutboundRequestV1 } from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { createTestKafka, startTestService, waitFor, type Collector, type TestKafka, type TestService } from '@wa/testing';
import { AppModule } from '../src/app.module';
import { SweeperService } from '../src/routing/sweeper.service';
import { handoffRouterService } from '../src/service';

/*
 * The router on the real broker and Postgres: requests from the bot's topic, agents through the
 * REST API and their event streams, the gateway's part played on its topics.
 */
jest.setTimeout(90_000);

const SECRET = 'handoff-router-tests-signing-secret-0123456789';
const ROADS = 'roads-agency';
const IMMIGRATION = 'immigration-dept';

let tk: TestKafka;
let service: TestService;
let producer: EventProducer;
let outbound: Collector;
let owners: Collector;
let sweeper: SweeperService;

const token = (tenant: string, sub: string, roles: Role[] = ['agent']) =>
  mintSandboxToken({ key: Buffer.from(SECRET), sub, tenant, roles });

async function call(method: string, path: string, bearer: string, body?: unknown) {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test client: shapes are asserted by the tests
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
}

/** An event stream as the console reads it: events collected, stoppable, resumable. */
function stream(bearer: string, lastEventId?: number) {
  const events: { id: number; type: string; data: { conversationId?: string; data: Record<string, unknown> } }[] = [];
  const controller = new AbortController();
  const done = (async () => {
    const response = await fetch(`${service.url}/v1/stream`, {
      headers: { authorization: `Bearer ${bearer}`, ...(lastEventId ? { 'last-event-id': String(lastEventId) } : {}) },
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += Buffer.from(value).toString('utf8');
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const field = (name: string) =>
          block
            .split('\n')
            .find((l) => l.startsWith(`${name}: `))
            ?.slice(name.length + 2);
        if (field('id')) events.push({ id: Number(field('id')), type: field('event')!, data: JSON.parse(field('data')!) });
      }
    }
  })().catch(() => undefined);
  return { events, stop: () => (controller.abort(), done) };
}

let seq = 0;
function request(tenantId: string, department: string, language: string, extra: Partial<HandoffRequestV1> = {}): HandoffRequestV1 {
  const waId = `57300${String(Date.now()).slice(-6)}${String(++seq).padStart(2, '0')}`;
  const now = new Date().toISOString();
  return {
    tenantId,
    conversationId: randomUUID(),
    citizenKey: waId,
    contact: { waId, profileName: 'Ana María' },
    department,
    language,
    reason: 'asked_for_agent',
    transcript: [
      { author: 'citizen', text: 'quiero hablar con un agente', at: now },
      { author: 'bot', text: 'Le comunico con un agente.', at: now },
    ],
    requestedAt: now,
    ...extra,
  };
}

const requestsTo = (waId: string) =>
  outbound.records.map((r) => JSON.parse(r.value!) as OutboundRequestV1).filter((r) => r.to.waId === waId || r.to.phone === `+${waId}`);

beforeAll(async () => {
  tk = await createTestKafka('handoff');
  service = await startTestService(handoffRouterService, (e) => AppModule.forRoot(e), tk, {
    env: {
      AUTH_SANDBOX_SECRET: SECRET,
      TENANTS_FILE: 'config/tenants.sandbox.yaml',
      HANDOFF_SWEEP_ENABLED: 'false',
      HANDOFF_SAMPLE_FILE: 'services/handoff-router/sample/handoff.sandbox.yaml',
      HANDOFF_DEFLECTION_TIMEOUT_MS: '3000',
    },
  });
  sweeper = service.app.get(SweeperService);
  producer = new EventProducer(tk.kafka, tk.options, '/tests/handoff');
  await producer.connect();
  outbound = await tk.collect(Topics.outboundRequest.name);
  owners = await tk.collect(Topics.conversationOwner.name);
});

afterAll(async () => {
  await producer?.disconnect();
  await service?.close();
  await tk?.cleanup();
  await service?.db.drop();
});

describe('handoff router', () => {
  it('assigns by department, language and free capacity; an agent coming online drains the queue; the stream carries it', async () => {
    const ana = await token(ROADS, 'ana.roads');
    const joao = await token(ROADS, 'joao.roads');
    const anaStream = stream(ana);
    const pt = request(ROADS, 'licensing', 'pt_BR');
    const es = request(ROADS, 'licensing', 'es');
    await producer.publish(Topics.handoffRequest, pt);
    await producer.publish(Topics.handoffRequest, es);
    // Nobody online: both wait, in order, and the citizens are told their place.
    await waitFor(async () => (await call('GET', '/v1/conversations?state=queued', ana)).body.length >= 2 || undefined, { what: 'queued' });
    await waitFor(() => requestsTo(es.citizenKey).some((r) => JSON.stringify(r.content).includes('fila')) || undefined, {
      what: 'place in queue',
    });
    const beat = await call('POST', '/v1/agents/me/heartbeat', ana, { presence: 'online' });
    expect(beat).toMatchObject({ status: 200, body: { id: 'ana.roads' } });
    // Ana speaks es/en, not Portuguese: she gets the Spanish citizen only.
    const assigned = await waitFor(
      () => anaStream.events.find((e) => e.type === 'conversation.assigned' && e.data.conversationId === es.conversationId),
      {
        what: 'assigned on the stream',
      },
    );
    expect(assigned.data.data).toMatchObject({ agentId: 'ana.roads', state: 'assigned' });
    expect((await call('GET', `/v1/conversations/${pt.conversationId}`, ana)).body.state).toBe('queued');
    await call('POST', '/v1/agents/me/heartbeat', joao, { presence: 'online' });
    await waitFor(
      async () => (await call('GET', `/v1/conversations/${pt.conversationId}`, joao)).body.agentId === 'joao.roads' || undefined,
      { what: 'joão gets pt' },
    );
    await waitFor(() => owners.records.some((r) => r.value!.includes(es.conversationId) && r.value!.includes('"assigned"')) || undefined, {
      what: 'owner event',
    });
    await anaStream.stop();
  });

  it('two agents claiming the same conversation: one wins, the other gets 409; nothing is assigned twice', async () => {
    const supervisor = await token(ROADS, 'marta.roads', ['agent', 'supervisor']);
    const ana = await token(ROADS, 'ana.roads');
    await call('POST', '/v1/agents/me/heartbeat', supervisor, { presence: 'away' });
    await call('POST', '/v1/agents/me/heartbeat', ana, { presence: 'away' });
    const r = request(ROADS, 'general', 'es');
    await producer.publish(Topics.handoffRequest, r);
    await waitFor(async () => (await call('GET', `/v1/conversations/${r.conversationId}`, supervisor)).status === 200 || undefined, {
      what: 'queued',
    });
    const results = await Promise.all([
      call('POST', `/v1/conversations/${r.conversationId}/claim`, ana),
      call('POST', `/v1/conversations/${r.conversationId}/claim`, supervisor),
    ]);
    expect(results.map((x) => x.status).sort()).toEqual([200, 409]);
    expect(results.find((x) => x.status === 409)!.body).toMatchObject({ code: 'already_assigned' });
  });

  it('an agent of tenant A cannot read or answer tenant B’s conversations, through the API or the stream', async () => {
    const fatima = await token(IMMIGRATION, 'fatima.imm');
    const fatimaStream = stream(fatima);
    const marta = await token(ROADS, 'marta.roads', ['agent', 'supervisor']);
    const r = request(ROADS, 'licensing', 'es');
    await producer.publish(Topics.handoffRequest, r);
    await waitFor(async () => (await call('GET', `/v1/conversations/${r.conversationId}`, marta)).status === 200 || undefined, {
      what: 'visible to the tenant’s supervisor',
    });
    expect((await call('GET', `/v1/conversations/${r.conversationId}`, fatima)).status).toBe(404);
    expect((await call('POST', `/v1/conversations/${r.conversationId}/messages`, fatima, { kind: 'text', text: 'hola' })).status).toBe(404);
    expect((await call('POST', `/v1/conversations/${r.conversationId}/claim`, fatima)).status).toBe(404);
    expect((await call('GET', '/v1/conversations', fatima)).body.map((c: { id: string }) => c.id)).not.toContain(r.conversationId);
    // A supervisor sees all of their tenant; an agent of another department sees nothing of it.
    const layla = await token(IMMIGRATION, 'layla.imm', ['agent', 'supervisor']);
    expect((await call('GET', '/v1/conversations', layla)).body.every((c: { id: string }) => c.id !== r.conversationId)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fatimaStream.events.some((e) => e.data.conversationId === r.conversationId)).toBe(false);
    await fatimaStream.stop();
  });

  it('a reply after the window is held, agent_replied goes out, and the reply is delivered once when the citizen answers', async () => {
    const ana = await token(ROADS, 'ana.roads');
    await call('POST', '/v1/agents/me/heartbeat', ana, { presence: 'online' });
    const old = new Date(Date.now() - 30 * 3600 * 1000).toISOString();
    const r = request(ROADS, 'general', 'es', { transcript: [{ author: 'citizen', text: 'ayuda', at: old }] });
    await producer.publish(Topics.handoffRequest, r);
    const assigned = await waitFor(
      async () => {
        const c = (await call('GET', `/v1/conversations/${r.conversationId}`, ana)).body;
        return c?.agentId === 'ana.roads' ? c : undefined;
      },
      { what: 'assigned to ana' },
    );
    expect(assigned.composer).toMatchObject({ window: 'closed', allowed: ['template'], freeReply: 'hold' });
    const reply = await call('POST', `/v1/conversations/${r.conversationId}/messages`, ana, {
      kind: 'text',
      text: 'Su licencia está lista',
      clientMessageId: 'c-1',
    });
    expect(reply.body).toMatchObject({ status: 'held' });
    // A console retry of the same reply is the same reply.
    expect(
      (
        await call('POST', `/v1/conversations/${r.conversationId}/messages`, ana, {
          kind: 'text',
          text: 'Su licencia está lista',
          clientMessageId: 'c-1',
        })
      ).body.id,
    ).toBe(reply.body.id);
    await waitFor(() => requestsTo(r.citizenKey).find((q) => q.template?.name === 'agent_replied'), { what: 'agent_replied' });
    expect(requestsTo(r.citizenKey).some((q) => q.kind === 'text' && JSON.stringify(q.content ?? {}).includes('licencia'))).toBe(false);
    const answer = {
      tenantId: ROADS,
      conversationId: r.conversationId,
      citizenKey: r.citizenKey,
      messageId: `wamid.${randomUUID()}`,
      line: { author: 'citizen', text: 'Ver la respuesta', at: new Date().toISOString() },
    };
    await producer.publish(Topics.handoffMessage, answer);
    await producer.publish(Topics.handoffMessage, answer);
    await waitFor(() => requestsTo(r.citizenKey).some((q) => JSON.stringify(q.content ?? {}).includes('licencia')) || undefined, {
      what: 'held reply sent',
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(requestsTo(r.citizenKey).filter((q) => JSON.stringify(q.content ?? {}).includes('licencia'))).toHaveLength(1);
  });

  it('an agent offline past the grace period: their conversations go back to the queue; transfer to a department', async () => {
    const admin = await token(ROADS, 'admin@roads', ['admin']);
    const created = await call('PUT', '/v1/agents/rita.roads', admin, {
      name: 'Rita',
      departments: ['licensing'],
      languages: ['pt_BR'],
      capacity: 5,
    });
    expect(created).toMatchObject({ status: 200, body: { id: 'rita.roads', version: 1 } });
    expect(
      (
        await call('PUT', '/v1/agents/rita.roads', admin, {
          name: 'Rita',
          departments: ['licensing'],
          languages: ['pt_BR'],
          capacity: 5,
          version: 7,
        })
      ).body,
    ).toMatchObject({
      code: 'version_conflict',
    });
    const joao = await token(ROADS, 'rita.roads');
    await call('POST', '/v1/agents/me/heartbeat', joao, { presence: 'online' });
    const r = request(ROADS, 'licensing', 'pt_BR');
    await producer.publish(Topics.handoffRequest, r);
    await waitFor(
      async () => (await call('GET', `/v1/conversations/${r.conversationId}`, joao)).body?.agentId === 'rita.roads' || undefined,
      { what: 'assigned' },
    );
    const t = await call('POST', `/v1/conversations/${r.conversationId}/transfer`, joao, { department: 'nowhere' });
    expect(t).toMatchObject({ status: 404, body: { code: 'unknown_department' } });
    await sweeper.sweep(new Date(Date.now() + 10 * 60 * 1000));
    const supervisor = await token(ROADS, 'marta.roads', ['agent', 'supervisor']);
    const after = (await call('GET', `/v1/conversations/${r.conversationId}`, supervisor)).body;
    expect(after.agentId).not.toBe('rita.roads');
    await waitFor(
      () => owners.records.some((o) => o.value!.includes(r.conversationId) && o.value!.includes('agent_offline')) || undefined,
      { what: 'requeued owner event' },
    );
  });
});
