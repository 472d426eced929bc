/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { encodeTombstone, Topics, type MessageStatusV1 } from '@wa/contracts';
import { waitFor } from '@wa/testing';
import { IMMIGRATION, ROADS, citizen, namedTemplate, plainTemplate, startGatewayHarness, type GatewayHarness } from './support/harness';

const PAIR_INTERVAL_MS = 1500;

describe('outbound gateway: sends through the sandbox, inside WhatsApp rules', () => {
  let h: GatewayHarness;

  beforeAll(async () => {
    h = await startGatewayHarness('gw-rules', { PAIR_INTERVAL_MS: String(PAIR_INTERVAL_MS), PAIR_BURST: '1' });
    await h.approve(namedTemplate(ROADS.tenantId, 'licence_expiry'));
    await h.approve(plainTemplate(ROADS.tenantId, 'officer_replied', 'es', 'Un funcionario respondió a su solicitud.'));
    await h.approve({ ...namedTemplate(ROADS.tenantId, 'road_works_promo', 'es', 'MARKETING'), status: 'PAUSED' });
    await h.approve(plainTemplate(IMMIGRATION.tenantId, 'visa_notice', 'en', 'Your visa notice is ready.'));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('sends a reply inside the window and publishes an accepted result with the wamid', async () => {
    const c = citizen();
    await h.openWindow(ROADS.tenantId, ROADS.phoneNumberId, c.waId);
    const request = await h.send({ kind: 'text', to: { waId: c.waId }, content: { body: 'Su trámite está listo', preview_url: false } });
    const result = await h.resultOf(request.requestId);
    expect(result).toMatchObject({ outcome: 'accepted', attempts: 1, tenantId: ROADS.tenantId, phoneNumberId: ROADS.phoneNumberId });
    const [sent] = h.sentTo(c.waId);
    expect(result.wamid).toBe(sent.wamid);
    expect(sent.failure).toBeUndefined(); // Meta (the sandbox) knows the window is open, too
    expect(sent.payload).toMatchObject({
      to: `+${c.waId}`,
      type: 'text',
      text: { body: 'Su trámite está listo' },
      biz_opaque_callback_data: request.requestId,
    });
  });

  it('refuses a free-form message when the window is closed, without calling Meta', async () => {
    const c = citizen();
    const request = await h.send({ kind: 'text', to: { phone: c.phone }, content: { body: 'hola' } });
    const result = await h.resultOf(request.requestId);
    expect(result).toMatchObject({ outcome: 'failed', reason: 'window-closed', attempts: 0 });
    expect(result.detail).toMatch(/24 h/);
    expect(h.sentTo(c.waId)).toHaveLength(0);
  });

  it('counts the window per business number and closes it 24 h after the last message', async () => {
    const c = citizen();
    await h.openWindow(ROADS.tenantId, ROADS.phoneNumberId, c.waId, new Date(Date.now() - 25 * 3600 * 1000));
    await h.openWindow(IMMIGRATION.tenantId, IMMIGRATION.phoneNumberId, c.waId);
    const request = await h.send({ kind: 'text', to: { waId: c.waId }, content: { body: 'hola' } });
    expect(await h.resultOf(request.requestId)).toMatchObject({ outcome: 'failed', reason: 'window-closed' });
    expect(h.sentTo(c.waId)).toHaveLength(0);
  });

  it('sends the fallback template instead when the window is closed', async () => {
    const c = citizen();
    const request = await h.send({
      kind: 'text',
      to: { phone: c.phone },
      content: { body: 'El funcionario dice: …' },
      fallbackTemplate: { name: 'officer_replied', language: 'es' },
    });
    const result = await h.resultOf(request.requestId);
    expect(result).toMatchObject({ outcome: 'accepted', usedFallback: true, sentTemplate: 'officer_replied:es' });
    const [sent] = h.sentTo(c.waId);
    expect(sent.payload).toMatchObject({ type: 'template', template: { name: 'officer_replied', language: { code: 'es' } } });
    expect(sent.payload.text).toBeUndefined();
  });

  it('does not send a business-initiated template to a citizen who opted out, but does answer them', async () => {
    const c = citizen();
    await h.optOut(ROADS.tenantId, c.waId, 'utility');
    const notice = await h.send({
      kind: 'template',
      priority: 'notification',
      to: { waId: c.waId },
      template: { name: 'licence_expiry', language: 'es', parameters: { first_name: 'Ana', due_date: '3 de marzo' } },
    });
    expect(await h.resultOf(notice.requestId)).toMatchObject({ outcome: 'failed', reason: 'opted-out' });
    expect(h.sentTo(c.waId)).toHaveLength(0);

    // The citizen writes: a reply (even a template) inside the window is allowed.
    await h.openWindow(ROADS.tenantId, ROADS.phoneNumberId, c.waId);
    const reply = await h.send({
      kind: 'template',
      priority: 'reply',
      to: { waId: c.waId },
      template: { name: 'licence_expiry', language: 'es', parameters: { first_name: 'Ana', due_date: '3 de marzo' } },
    });
    expect(await h.resultOf(reply.requestId)).toMatchObject({ outcome: 'accepted' });
    expect(h.sentTo(c.waId)).toHaveLength(1);
  });

  // WhatsApp's wa_id for Mexican mobiles keeps a 1 after 52, and for Brazilian mobiles may lack the
  // ninth digit: a STOP or a message from that wa_id is about the person the agency names by E.164.
  it.each([
    ['Mexican', '5215512345678', '+525512345678'],
    ['Brazilian', '551187654321', '+5511987654321'],
  ])('a %s citizen who said STOP from their wa_id is not sent a notice addressed to their E.164 number', async (_, id, number) => {
    await h.optOut(ROADS.tenantId, id, 'utility');
    const notice = await h.send({
      kind: 'template',
      priority: 'notification',
      to: { phone: number },
      template: { name: 'licence_expiry', language: 'es', parameters: { first_name: 'Ana', due_date: '3 de marzo' } },
    });
    expect(await h.resultOf(notice.requestId)).toMatchObject({ outcome: 'failed', reason: 'opted-out' });

    // Their message from the wa_id opens the window for a free-form answer to the E.164 number,
    // and Meta still gets the number as the caller gave it.
    await h.openWindow(ROADS.tenantId, ROADS.phoneNumberId, id);
    const answer = await h.send({ kind: 'text', to: { phone: number }, content: { body: 'Recibido' } });
    expect(await h.resultOf(answer.requestId)).toMatchObject({ outcome: 'accepted' });
    const sent = h.simulator.sent.filter((m) => m.payload.to === number);
    expect(sent.map((m) => m.payload.type)).toEqual(['text']);
  });

  it('fails wrong template parameters with the reason, without calling Meta', async () => {
    const c = citizen();
    const request = await h.send({
      kind: 'template',
      priority: 'notification',
      to: { phone: c.phone },
      template: { name: 'licence_expiry', language: 'es', parameters: { first_name: 'Ana', due_day: '3 de marzo' } },
    });
    const result = await h.resultOf(request.requestId);
    expect(result).toMatchObject({ outcome: 'failed', reason: 'template-params' });
    expect(result.detail).toMatch(/due_date/);
    expect(result.detail).toMatch(/due_day/);
    expect(h.sentTo(c.waId)).toHaveLength(0);
  });

  it('fails templates that are not approved or not in the catalog', async () => {
    const paused = await h.send({
      kind: 'template',
      priority: 'bulk',
      template: { name: 'road_works_promo', language: 'es', parameters: { first_name: 'A', due_date: 'B' } },
    });
    expect(await h.resultOf(paused.requestId)).toMatchObject({
      outcome: 'failed',
      reason: 'template-not-approved',
      detail: expect.stringMatching(/PAUSED/),
    });
    const unknown = await h.send({ kind: 'template', priority: 'bulk', template: { name: 'no_such_template', language: 'es' } });
    expect(await h.resultOf(unknown.requestId)).toMatchObject({
      outcome: 'failed',
      reason: 'template-not-approved',
      detail: expect.stringMatching(/not in the catalog/),
    });
  });

  it('forgets a translation the registry deleted (tombstone on the compacted catalog)', async () => {
    await h.approve(plainTemplate(ROADS.tenantId, 'old_notice', 'es', 'Aviso.'));
    await h.producer.send([
      {
        topic: Topics.templateCatalog.name,
        ...encodeTombstone(Topics.templateCatalog, `${ROADS.tenantId}:old_notice:es`, ROADS.tenantId, { source: '/tests' }),
      },
    ]);
    const db = h.gateway.app.get(DataSource);
    await waitFor(async () => (await db.query(`SELECT 1 FROM gateway.template_catalog WHERE name = 'old_notice'`)).length === 0, {
      what: 'the tombstone to apply',
    });
    const request = await h.send({ kind: 'template', priority: 'bulk', template: { name: 'old_notice', language: 'es' } });
    expect(await h.resultOf(request.requestId)).toMatchObject({ outcome: 'failed', reason: 'template-not-approved' });
  });

  it('fails a request that breaks a WhatsApp limit with a precise reason', async () => {
    const c = citizen();
    await h.openWindow(ROADS.tenantId, ROADS.phoneNumberId, c.waId);
    const request = await h.send({
      kind: 'interactive',
      to: { waId: c.waId },
      content: {
        type: 'button',
        body: { text: '¿Qué desea hacer?' },
        action: { buttons: ['Renovar', 'Citas', 'Pagos', 'Agente'].map((t, i) => ({ type: 'reply', reply: { id: `b${i}`, title: t } })) },
      },
    });
    const result = await h.resultOf(request.requestId);
    expect(result).toMatchObject({ outcome: 'failed', reason: 'invalid-request', attempts: 0 });
    expect(result.detail).toMatch(/content\.action\.buttons.*no more than 3/);
    expect(h.sentTo(c.waId)).toHaveLength(0);
  });

  it('sends every free-form kind in the Cloud API shape', async () => {
    const c = citizen();
    await h.openWindow(ROADS.tenantId, ROADS.phoneNumberId, c.waId);
    const kinds = [
      {
        kind: 'interactive',
        content: {
          type: 'list',
          body: { text: 'Elija' },
          action: { button: 'Servicios', sections: [{ title: 'Licencias', rows: [{ id: 'renew', title: 'Renovar' }] }] },
        },
      },
      {
        kind: 'interactive',
        content: {
          type: 'cta_url',
          body: { text: 'Pague en línea' },
          action: { name: 'cta_url', parameters: { display_text: 'Pagar', url: 'https://pagos.example.gov.co/x' } },
        },
      },
      { kind: 'image', content: { link: 'https://cdn.example.gov.co/mapa.png', caption: 'Sede' } },
      { kind: 'location', content: { latitude: 4.6, longitude: -74.08, name: 'Sede Central' } },
      { kind: 'reaction', content: { message_id: 'wamid.USER1', emoji: '✅' } },
    ] as const;
    const requests = [];
    for (const k of kinds) requests.push(await h.send({ ...k, to: { waId: c.waId }, replyToMessageId: 'wamid.USER1' } as never));
    for (const r of requests) expect(await h.resultOf(r.requestId, 60000)).toMatchObject({ outcome: 'accepted' });
    const sent = h.sentTo(c.waId);
    expect(sent.map((s) => s.type)).toEqual(['interactive', 'interactive', 'image', 'location', 'reaction']);
    expect(sent.filter((s) => s.failure)).toEqual([]);
    expect(sent[0].payload).toMatchObject({ interactive: { type: 'list' }, context: { message_id: 'wamid.USER1' } });
    expect(sent[2].payload).toMatchObject({ image: { link: 'https://cdn.example.gov.co/mapa.png', caption: 'Sede' } });
    expect(sent[4].payload.context).toBeUndefined();
  }, 120000);

  it('marks a message read with the typing indicator (accepted, no wamid, not paced)', async () => {
    const c = citizen();
    const request = await h.send({
      kind: 'mark_read',
      to: { waId: c.waId },
      content: { message_id: 'wamid.USER2', typing_indicator: { type: 'text' } },
    });
    const result = await h.resultOf(request.requestId);
    expect(result.outcome).toBe('accepted');
    expect(result.wamid).toBeUndefined();
  });

  it('sends a redelivered request only once', async () => {
    const c = citizen();
    await h.openWindow(ROADS.tenantId, ROADS.phoneNumberId, c.waId);
    const request = await h.send({ kind: 'text', to: { waId: c.waId }, content: { body: 'una sola vez' } });
    // The same request again, as a producer retry would (new ce_id) and as a replay would (same payload).
    await h.producer.publish(Topics.outboundRequest, request, { id: randomUUID() });
    await h.producer.publish(Topics.outboundRequest, request, { id: randomUUID() });
    await h.resultOf(request.requestId);
    await new Promise((r) => setTimeout(r, 2000));
    expect(h.sentTo(c.waId)).toHaveLength(1);
    expect(h.resultsOf(request.requestId)).toHaveLength(1);
  });

  it('paces several messages to one citizen, in order, at least the pair interval apart', async () => {
    const c = citizen();
    await h.openWindow(ROADS.tenantId, ROADS.phoneNumberId, c.waId);
    const bodies = ['uno', 'dos', 'tres', 'cuatro'];
    const requests = [];
    for (const body of bodies) requests.push(await h.send({ kind: 'text', to: { waId: c.waId }, content: { body } }));
    for (const r of requests) expect(await h.resultOf(r.requestId, 60000)).toMatchObject({ outcome: 'accepted' });
    const sent = h.sentTo(c.waId);
    expect(sent.map((s) => (s.payload.text as { body: string }).body)).toEqual(bodies);
    for (let i = 1; i < sent.length; i++) expect(sent[i].acceptedAt - sent[i - 1].acceptedAt).toBeGreaterThanOrEqual(PAIR_INTERVAL_MS);
    // Pacing is per citizen: someone else is not held up meanwhile.
    expect(h.simulator.stats.rejected['131056'] ?? 0).toBe(0);
  }, 60000);

  it('sends replies before bulk notifications waiting on the same number', async () => {
    const number = IMMIGRATION.slowPhoneNumberId; // 80 msg/s tier
    const refusedBefore = h.simulator.stats.rejected['130429'] ?? 0;
    const bulkRequests = await h.sendBulk(
      400,
      { tenantId: IMMIGRATION.tenantId, phoneNumberId: number },
      { name: 'visa_notice', language: 'en' },
    );
    await waitFor(() => h.simulator.sent.filter((m) => m.phoneNumberId === number).length >= 20, {
      timeoutMs: 60000,
      what: 'bulk sending to start',
    });
    const c = citizen();
    await h.openWindow(IMMIGRATION.tenantId, number, c.waId);
    const reply = await h.send({
      tenantId: IMMIGRATION.tenantId,
      phoneNumberId: number,
      kind: 'text',
      to: { waId: c.waId },
      content: { body: 'Your answer' },
    });
    await h.resultOf(reply.requestId, 60000);
    const bulkIds = new Set(bulkRequests.map((r) => r.requestId));
    const bulkDoneBeforeReply = h.simulator.sent.filter(
      (m) => bulkIds.has(String(m.bizOpaqueCallbackData)) && m.acceptedAt <= h.sentTo(c.waId)[0].acceptedAt,
    ).length;
    expect(bulkDoneBeforeReply).toBeLessThan(300);
    for (const r of bulkRequests) await h.resultOf(r.requestId, 60000);
    // The gateway kept to the 80 msg/s tier: Meta (the simulator, a strict sliding second) refused
    // none of its calls here (a stall of this shared event loop could bunch a few arrivals). With
    // the slot budget lifted tenfold it was refused 36 times. The simulator's own "max accepted in
    // one second" cannot exceed its limit by construction, so it is not what is checked.
    const stats = (await (await fetch(`${h.sandboxUrl}/sandbox/messages/stats`)).json()) as { rejected: Record<string, number> };
    expect((stats.rejected['130429'] ?? 0) - refusedBefore).toBeLessThanOrEqual(10);
  }, 120000);

  it('joins status webhooks to the request and serves its history to its own tenant only', async () => {
    const c = citizen();
    await h.openWindow(ROADS.tenantId, ROADS.phoneNumberId, c.waId);
    const request = await h.send({ kind: 'text', to: { waId: c.waId }, content: { body: 'seguimiento' } });
    const { wamid } = await h.resultOf(request.requestId);
    const base: Omit<MessageStatusV1, 'status' | 'occurredAt'> = {
      tenantId: ROADS.tenantId,
      phoneNumberId: ROADS.phoneNumberId,
      messageId: wamid!,
      recipientId: c.waId,
      bizOpaqueCallbackData: request.requestId,
    };
    const t = Date.now();
    // Out of order and duplicated, as Meta does.
    await h.status({ ...base, status: 'read', occurredAt: new Date(t + 2000).toISOString() });
    await h.status({ ...base, status: 'sent', occurredAt: new Date(t).toISOString() });
    await h.status({ ...base, status: 'delivered', occurredAt: new Date(t + 1000).toISOString() });
    await h.status({ ...base, status: 'delivered', occurredAt: new Date(t + 1000).toISOString() });

    const token = await h.token(ROADS.tenantId, ['agent']);
    const view = await waitFor(
      async () => {
        const body = (await (await h.api(`/v1/messages/${request.requestId}`, token)).json()) as {
          deliveryStatus: string;
          history: { type: string; status?: string }[];
        };
        return body.history.filter((e) => e.type === 'status').length === 3 ? body : undefined;
      },
      { timeoutMs: 30000, what: 'three statuses in the history' },
    );
    expect(view).toMatchObject({ requestId: request.requestId, outcome: 'accepted', wamid, deliveryStatus: 'read', attempts: 1 });
    expect(view.history.filter((e) => e.type === 'status').map((e) => e.status)).toEqual(['sent', 'delivered', 'read']);
    expect(JSON.stringify(view)).not.toContain(c.waId);

    expect((await h.api(`/v1/messages/${request.requestId}`)).status).toBe(401);
    const other = await h.api(`/v1/messages/${request.requestId}`, await h.token(IMMIGRATION.tenantId, ['admin']));
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ code: 'not_found' });
    expect((await h.api(`/v1/messages/not-a-uuid`, token)).status).toBe(400);
  });

  it('uploads an agency file once per number and sends it by media id', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(2048, 0x20), Buffer.from('\n%%EOF\n')]);
    const editor = await h.token(ROADS.tenantId, ['flow-editor']);
    const refused = await h.api('/v1/media', await h.token(ROADS.tenantId, ['agent']), {
      method: 'POST',
      headers: { 'content-type': 'application/pdf' },
      body: pdf,
    });
    expect(refused.status).toBe(403);
    const upload = await h.api('/v1/media', editor, {
      method: 'POST',
      headers: { 'content-type': 'application/pdf', 'x-filename': 'requisitos.pdf' },
      body: pdf,
    });
    expect(upload.status).toBe(201);
    const asset = (await upload.json()) as { assetId: string; sendableAs: string[] };
    expect(asset.sendableAs).toEqual(['document']);

    const c = citizen();
    await h.openWindow(ROADS.tenantId, ROADS.phoneNumberId, c.waId);
    const first = await h.send({
      kind: 'document',
      to: { waId: c.waId },
      content: { assetId: asset.assetId, filename: 'requisitos.pdf', caption: 'Requisitos' },
    });
    const second = await h.send({
      kind: 'document',
      to: { waId: c.waId },
      content: { assetId: asset.assetId, filename: 'requisitos.pdf' },
    });
    expect(await h.resultOf(first.requestId)).toMatchObject({ outcome: 'accepted' });
    expect(await h.resultOf(second.requestId, 60000)).toMatchObject({ outcome: 'accepted' });
    const described = (await (await h.api(`/v1/media/${asset.assetId}`, editor)).json()) as {
      uploads: { phoneNumberId: string; mediaId: string; expiresAt: string }[];
    };
    expect(described.uploads).toHaveLength(1);
    const { mediaId, expiresAt } = described.uploads[0];
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(29 * 86400000);
    expect(h.sentTo(c.waId).map((s) => (s.payload.document as { id: string }).id)).toEqual([mediaId, mediaId]);

    // An image asset cannot go out as a document: the file type decides.
    const wrongKind = await h.send({ kind: 'image', to: { waId: c.waId }, content: { assetId: asset.assetId } });
    expect(await h.resultOf(wrongKind.requestId, 60000)).toMatchObject({ outcome: 'failed', reason: 'media-unavailable' });
    // Another tenant cannot use it.
    expect((await h.api(`/v1/media/${asset.assetId}`, await h.token(IMMIGRATION.tenantId, ['admin']))).status).toBe(404);
  }, 90000);
});
