/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { citizenKey, type OutboundRequestV1 } from '@wa/contracts';
import { sleep, waitFor } from '@wa/testing';
import { ROADS, citizen, plainTemplate, startGatewayHarness, type GatewayHarness } from './support/harness';

const UNCERTAIN_GRACE_MS = 4000;

/** Cloud API errors, crashes and timeouts: what is retried, what fails, and what is never sent twice. */
describe('outbound gateway: errors and uncertain sends', () => {
  let h: GatewayHarness;
  let db: DataSource;

  beforeAll(async () => {
    h = await startGatewayHarness('gw-errors', {
      SEND_TIMEOUT_MS: '1000',
      UNCERTAIN_GRACE_MS: String(UNCERTAIN_GRACE_MS),
      AUTH_HOLD_MS: '3000',
      PAIR_INTERVAL_MS: '500',
    });
    db = h.gateway.app.get(DataSource);
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => {
    h.simulator.rules.length = 0;
    h.simulator.configure({ latencyMs: 0 });
  });

  async function textTo(c: { waId: string }, body = 'hola'): Promise<OutboundRequestV1> {
    await h.openWindow(ROADS.tenantId, ROADS.phoneNumberId, c.waId);
    return h.send({ kind: 'text', to: { waId: c.waId }, content: { body } });
  }

  it('retries 130429 (throughput) later and delivers', async () => {
    const c = citizen();
    h.simulator.addRule({ code: 130429, recipient: c.waId, times: 2 });
    const request = await textTo(c);
    const result = await h.resultOf(request.requestId);
    expect(result).toMatchObject({ outcome: 'accepted', attempts: 3 });
    expect(h.sentTo(c.waId)).toHaveLength(1);
    expect(h.simulator.rules[0].hits).toBe(2);
  });

  it('retries transient errors (131000) with backoff and delivers', async () => {
    const c = citizen();
    h.simulator.addRule({ code: 131000, recipient: c.waId, times: 1 });
    const request = await textTo(c);
    expect(await h.resultOf(request.requestId)).toMatchObject({ outcome: 'accepted', attempts: 2 });
  });

  it('waits for that citizen only after 131056 (pair limit) and delivers', async () => {
    const c = citizen();
    h.simulator.addRule({ code: 131056, recipient: c.waId, times: 1 });
    const request = await textTo(c);
    const other = await textTo(citizen());
    const otherResult = await h.resultOf(other.requestId);
    const result = await h.resultOf(request.requestId);
    expect(result).toMatchObject({ outcome: 'accepted', attempts: 2 });
    // The backoff (200 ms · 4^0 here) applied to this citizen; the other one went straight through.
    expect(otherResult.attempts).toBe(1);
  });

  it('fails 131026 (not on WhatsApp) permanently with the reason and the code', async () => {
    const c = citizen();
    h.simulator.notOnWhatsApp.add(c.waId);
    const request = await textTo(c);
    const result = await h.resultOf(request.requestId);
    expect(result).toMatchObject({ outcome: 'failed', reason: 'undeliverable', attempts: 1, error: { code: 131026 } });
    expect(result.detail).toMatch(/131026/);
    await sleep(1000);
    expect(h.simulator.stats.rejected['131026']).toBe(1);
    expect(h.resultsOf(request.requestId)).toHaveLength(1);
  });

  it('records a failure Meta reports later in a status webhook (131026 async)', async () => {
    const c = citizen();
    const request = await textTo(c);
    const { wamid } = await h.resultOf(request.requestId);
    await h.status({
      tenantId: ROADS.tenantId,
      phoneNumberId: ROADS.phoneNumberId,
      messageId: wamid!,
      status: 'failed',
      occurredAt: new Date().toISOString(),
      recipientId: c.waId,
      bizOpaqueCallbackData: request.requestId,
      errors: [{ code: 131026, title: 'Message undeliverable' }],
    });
    const token = await h.token(ROADS.tenantId);
    const view = await waitFor(async () => {
      const body = (await (await h.api(`/v1/messages/${request.requestId}`, token)).json()) as {
        deliveryStatus: string;
        history: { status?: string; errors?: { code: number }[] }[];
      };
      return body.deliveryStatus === 'failed' ? body : undefined;
    });
    expect(view.history.find((e) => e.status === 'failed')?.errors?.[0].code).toBe(131026);
  });

  it('falls back to the template when Meta says the window is closed (131047), after one retry', async () => {
    const c = citizen();
    await h.approve(plainTemplate(ROADS.tenantId, 'reply_waiting', 'es', 'Tiene una respuesta pendiente.'));
    h.simulator.addRule({ code: 131047, recipient: c.waId, type: 'text' });
    await h.openWindow(ROADS.tenantId, ROADS.phoneNumberId, c.waId);
    const request = await h.send({
      kind: 'text',
      to: { waId: c.waId },
      content: { body: 'hola' },
      fallbackTemplate: { name: 'reply_waiting', language: 'es' },
    });
    const result = await h.resultOf(request.requestId);
    expect(result).toMatchObject({ outcome: 'accepted', usedFallback: true, attempts: 3 });
    expect(h.sentTo(c.waId).map((m) => m.type)).toEqual(['template']);
  });

  it('stops sending for a tenant whose token Meta rejects (190), alerting, and probes again later', async () => {
    h.simulator.addRule({ code: 190, phoneNumberId: ROADS.phoneNumberId });
    const c1 = citizen();
    const c2 = citizen();
    const first = await textTo(c1, 'uno');
    const second = await textTo(c2, 'dos');
    await waitFor(
      async () =>
        (await db.query(`SELECT 1 FROM gateway.hold WHERE scope = 'tenant' AND scope_id = $1 AND reason = 'auth'`, [ROADS.tenantId]))
          .length > 0,
      {
        what: 'the auth hold',
      },
    );
    const callsAtHold = h.simulator.rules[0].hits;
    await sleep(2000);
    // Held: no call at all while the hold lasts, and the requests wait rather than fail.
    expect(h.simulator.rules[0].hits).toBe(callsAtHold);
    expect(h.resultsOf(first.requestId)).toHaveLength(0);
    const metrics = await (await fetch(`${h.gateway.url}/metrics`)).text();
    const holdLines = metrics.split('\n').filter((l) => l.startsWith('gateway_holds_active'));
    expect(holdLines).toContainEqual(expect.stringMatching(/scope_id="roads-agency".*reason="auth".*\} 1$/));

    // The token is fixed at Meta's end: after the hold, one probe goes out, succeeds, and sending resumes.
    h.simulator.rules.length = 0;
    expect(await h.resultOf(first.requestId, 30000)).toMatchObject({ outcome: 'accepted' });
    expect(await h.resultOf(second.requestId, 30000)).toMatchObject({ outcome: 'accepted' });
    expect(await db.query(`SELECT 1 FROM gateway.hold WHERE scope_id = $1`, [ROADS.tenantId])).toHaveLength(0);
  }, 60000);

  it('settles a timed-out send from the status webhook that names it, without sending twice', async () => {
    const c = citizen();
    h.simulator.configure({ latencyMs: 1500 }); // longer than SEND_TIMEOUT_MS: Meta accepts, we never hear
    const request = await textTo(c);
    const [sent] = await waitFor(() => (h.sentTo(c.waId).length ? h.sentTo(c.waId) : undefined), { what: 'Meta to accept the slow send' });
    h.simulator.configure({ latencyMs: 0 });
    await waitFor(
      async () =>
        (await db.query(`SELECT 1 FROM gateway.outbound_message WHERE request_id = $1 AND state = 'uncertain'`, [request.requestId]))
          .length > 0,
      {
        what: 'the send to be uncertain',
      },
    );
    expect(h.resultsOf(request.requestId)).toHaveLength(0);
    await h.status({
      tenantId: ROADS.tenantId,
      phoneNumberId: ROADS.phoneNumberId,
      messageId: sent.wamid,
      status: 'sent',
      occurredAt: new Date().toISOString(),
      recipientId: c.waId,
      bizOpaqueCallbackData: sent.bizOpaqueCallbackData,
    });
    expect(await h.resultOf(request.requestId)).toMatchObject({ outcome: 'accepted', wamid: sent.wamid });
    await sleep(UNCERTAIN_GRACE_MS + 1500);
    expect(h.sentTo(c.waId)).toHaveLength(1);
  }, 60000);

  it('resends a timed-out send when no status names it within the grace period', async () => {
    const c = citizen();
    h.simulator.configure({ latencyMs: 1500 });
    const request = await textTo(c);
    await waitFor(
      async () =>
        (await db.query(`SELECT 1 FROM gateway.outbound_message WHERE request_id = $1 AND state = 'uncertain'`, [request.requestId]))
          .length > 0,
      {
        what: 'the send to be uncertain',
      },
    );
    h.simulator.configure({ latencyMs: 0 });
    const result = await h.resultOf(request.requestId, 30000);
    expect(result).toMatchObject({ outcome: 'accepted', attempts: 2 });
    // This is the bounded duplicate: Meta had the first copy, and no status told us within the grace.
    expect(h.sentTo(c.waId)).toHaveLength(2);
    expect(result.wamid).toBe(h.sentTo(c.waId)[1].wamid);
  }, 60000);

  it('takes over the sends of a replica that died mid-call and settles them by status', async () => {
    const c = citizen();
    const requestId = randomUUID();
    const request: OutboundRequestV1 = {
      tenantId: ROADS.tenantId,
      requestId,
      to: { waId: c.waId },
      kind: 'text',
      priority: 'reply',
      content: { body: 'hola' },
      requestedBy: 'tests',
    };
    // What a replica leaves behind when killed between Meta's answer and the write: a row in
    // 'sending', claimed by a replica that no longer beats.
    await db.query(
      `INSERT INTO gateway.outbound_message (request_id, tenant_id, phone_number_id, recipient, lane, kind, priority, request, state, attempts, claimed_by, lease_until)
       VALUES ($1, $2, $3, $4, $5, 'text', 0, $6, 'sending', 1, 'ghost-replica', now() + interval '1 hour')`,
      [
        requestId,
        ROADS.tenantId,
        ROADS.phoneNumberId,
        citizenKey(request.to),
        `${ROADS.phoneNumberId}:${citizenKey(request.to)}`,
        JSON.stringify(request),
      ],
    );
    await h.status({
      tenantId: ROADS.tenantId,
      phoneNumberId: ROADS.phoneNumberId,
      messageId: 'wamid.FROM_THE_DEAD',
      status: 'sent',
      occurredAt: new Date().toISOString(),
      recipientId: c.waId,
      bizOpaqueCallbackData: requestId,
    });
    const result = await h.resultOf(requestId, 30000);
    expect(result).toMatchObject({ outcome: 'accepted', wamid: 'wamid.FROM_THE_DEAD', attempts: 1 });
    expect(h.sentTo(c.waId)).toHaveLength(0);
    const [row] = await db.query(`SELECT events FROM gateway.outbound_message WHERE request_id = $1`, [requestId]);
    expect((row.events as { type: string }[]).map((e) => e.type)).toEqual(['reaped', 'settled-by-status']);
  }, 60000);
});
