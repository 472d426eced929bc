/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { randomUUID } from 'node:crypto';
import { mintSandboxToken } from '@wa/auth';
import { Topics, type CallcenterDeflectionResultV1, type OutboundRequestV1 } from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { createTestKafka, startTestService, waitFor, type Collector, type TestKafka, type TestService } from '@wa/testing';
import { AppModule } from '../src/app.module';
import { SweeperService } from '../src/routing/sweeper.service';
import { handoffRouterService } from '../src/service';

/*
 * Call-centre deflection on the real broker and Postgres. The test plays the outbound gateway on
 * its topics (the result of the send, then the status webhook as the ingress normalizes it).
 */
jest.setTimeout(90_000);

const SECRET = 'handoff-router-tests-signing-secret-0123456789';
const ROADS = 'roads-agency';
let tk: TestKafka;
let service: TestService;
let producer: EventProducer;
let outbound: Collector;
let results: Collector;
let bearer: string;

async function deflect(body: Record<string, unknown>) {
  const response = await fetch(`${service.url}/v1/deflections`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- shapes asserted below
  return { status: response.status, body: (await response.json()) as any };
}

const sendFor = (phone: string) =>
  waitFor(() => outbound.records.map((r) => JSON.parse(r.value!) as OutboundRequestV1).find((r) => r.to.phone === phone), {
    what: `send to ${phone}`,
  });

function gatewayAnswers(request: OutboundRequestV1, answer: { wamid?: string; error?: number; reason?: string }) {
  return producer.publish(Topics.outboundResult, {
    tenantId: request.tenantId,
    requestId: request.requestId,
    outcome: answer.wamid ? 'accepted' : 'failed',
    ...(answer.wamid ? { wamid: answer.wamid } : {}),
    ...(answer.error ? { error: { code: answer.error, title: 'Message undeliverable' } } : {}),
    ...(answer.reason ? { reason: answer.reason as never } : {}),
    attempts: 1,
    requestedBy: request.requestedBy,
    decidedAt: new Date().toISOString(),
  });
}

let n = 0;
const phone = () => `+57301${String(Date.now()).slice(-5)}${String(++n).padStart(2, '0')}`;

beforeAll(async () => {
  tk = await createTestKafka('deflection');
  service = await startTestService(handoffRouterService, (e) => AppModule.forRoot(e), tk, {
    env: {
      AUTH_SANDBOX_SECRET: SECRET,
      TENANTS_FILE: 'config/tenants.sandbox.yaml',
      HANDOFF_SWEEP_ENABLED: 'false',
      HANDOFF_SAMPLE_FILE: 'services/handoff-router/sample/handoff.sandbox.yaml',
      HANDOFF_DEFLECTION_TIMEOUT_MS: '4000',
    },
  });
  producer = new EventProducer(tk.kafka, tk.options, '/tests/callcentre');
  await producer.connect();
  outbound = await tk.collect(Topics.outboundRequest.name);
  results = await tk.collect(Topics.callcenterDeflectionResult.name);
  bearer = await mintSandboxToken({ key: Buffer.from(SECRET), sub: 'ivr', tenant: ROADS, roles: ['service'] });
});

afterAll(async () => {
  await producer?.disconnect();
  await service?.close();
  await tk?.cleanup();
  await service?.db.drop();
});

const published = (callId: string) =>
  waitFor(() => results.records.map((r) => JSON.parse(r.value!) as CallcenterDeflectionResultV1).find((r) => r.callId === callId), {
    what: `result of ${callId}`,
  });

describe('call-centre deflection', () => {
  it('a reachable number: continue_on_whatsapp in the caller’s language, offered on delivery, then the reply queues with priority', async () => {
    const to = phone();
    const callId = `call-${randomUUID()}`;
    const pending = deflect({ callId, contact: { phone: to }, department: 'licensing', language: 'es', priority: 80 });
    const send = await sendFor(to);
    expect(send.template).toMatchObject({
      name: 'continue_on_whatsapp',
      language: 'es',
      parameters: { department: 'Licencias de conducción' },
    });
    await gatewayAnswers(send, { wamid: `wamid.${randomUUID()}` });
    const wamid = `wamid.${randomUUID()}`;
    await gatewayAnswers(send, { wamid });
    await producer.publish(Topics.messageStatus, {
      tenantId: ROADS,
      phoneNumberId: '310000000000001',
      messageId: wamid,
      status: 'delivered',
      occurredAt: new Date().toISOString(),
      bizOpaqueCallbackData: send.requestId,
    });
    expect((await pending).body).toMatchObject({ callId, outcome: 'offered' });
    expect(await published(callId)).toMatchObject({ outcome: 'offered' });
    // The citizen answers in free text: the router requests the handoff and queues it with the call's priority.
    await producer.publish(Topics.inboundMessage, {
      tenantId: ROADS,
      phoneNumberId: '310000000000001',
      messageId: `wamid.${randomUUID()}`,
      contact: { waId: to.slice(1), profileName: 'Pedro' },
      sentAt: new Date().toISOString(),
      receivedAt: new Date().toISOString(),
      type: 'text',
      text: 'Hola, vengo de la llamada',
    });
    const supervisor = await mintSandboxToken({
      key: Buffer.from(SECRET),
      sub: 'marta.roads',
      tenant: ROADS,
      roles: ['agent', 'supervisor'],
    });
    const queued = await waitFor(
      async () => {
        const list = (await (
          await fetch(`${service.url}/v1/conversations?state=queued`, { headers: { authorization: `Bearer ${supervisor}` } })
        ).json()) as {
          callId: string;
          priority: number;
          department: string;
        }[];
        return list.find((c) => c.callId === callId);
      },
      { what: 'queued with priority' },
    );
    expect(queued).toMatchObject({ priority: 80, department: 'licensing' });
  });

  it('a number not on WhatsApp (131026): not_reachable, published too; the same callId answers the same', async () => {
    const to = phone();
    const callId = `call-${randomUUID()}`;
    const pending = deflect({ callId, contact: { phone: to }, department: 'licensing', language: 'en' });
    await gatewayAnswers(await sendFor(to), { error: 131026, reason: 'undeliverable' });
    expect((await pending).body).toMatchObject({ outcome: 'not_reachable', errorCode: 131026 });
    expect(await published(callId)).toMatchObject({ outcome: 'not_reachable', errorCode: 131026 });
    expect((await deflect({ callId, contact: { phone: to }, department: 'licensing', language: 'en' })).body).toMatchObject({
      outcome: 'not_reachable',
    });
  });

  it('opted out, no delivery in time, unknown department', async () => {
    const optedOut = phone();
    const a = deflect({ callId: `call-${randomUUID()}`, contact: { phone: optedOut }, department: 'licensing', language: 'es' });
    await gatewayAnswers(await sendFor(optedOut), { reason: 'opted-out' });
    expect((await a).body).toMatchObject({ outcome: 'opted_out' });

    const silent = phone();
    const callId = `call-${randomUUID()}`;
    const b = deflect({ callId, contact: { phone: silent }, department: 'licensing', language: 'es' });
    await gatewayAnswers(await sendFor(silent), { wamid: `wamid.${randomUUID()}` });
    await waitFor(
      async () => {
        await service.app.get(SweeperService).sweep(new Date(Date.now() + 5000));
        return (await published(callId).catch(() => undefined)) ?? undefined;
      },
      { what: 'timeout decided', timeoutMs: 30_000, intervalMs: 500 },
    );
    expect((await b).body).toMatchObject({ outcome: 'not_reachable' });

    expect(await deflect({ callId: 'call-x', contact: { phone: phone() }, department: 'nowhere', language: 'es' })).toMatchObject({
      status: 404,
      body: { code: 'unknown_department' },
    });
  });
});
