/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { Client } from 'pg';
import {
  Topics,
  type AccountEventV1,
  type InboundMessageV1,
  type MessageStatusV1,
  type WebhookQuarantineV1,
  type WebhookRawV2,
} from '@wa/contracts';
import { createTestKafka, freePort, waitFor, sleep, type Collector, type TestKafka, type TestService } from '@wa/testing';
import { signatureOf as signBody } from '../src/webhook/signature';
import { fixtureBytes, fixtureText } from './support/fixtures';
import { bearer, events, sandboxPost, startIngress, startSandbox, type Sandbox } from './support/harness';

const ROADS_SECRET = 'sandbox-roads-app-secret';
const ROADS_PREVIOUS_SECRET = 'rotated-out-roads-secret';
const IMMIGRATION_SECRET = 'sandbox-immigration-app-secret';

describe('webhook ingress against the real broker and Postgres, fed by the sandbox', () => {
  let tk: TestKafka;
  let sandbox: Sandbox;
  let ingress: TestService;
  let pg: Client;
  const collectors: Record<string, Collector> = {};

  beforeAll(async () => {
    process.env.ROADS_APP_SECRET_PREVIOUS = ROADS_PREVIOUS_SECRET;
    tk = await createTestKafka('ingress');
    const sandboxPort = await freePort();
    ingress = await startIngress(tk, { graphApiBaseUrl: `http://127.0.0.1:${sandboxPort}` });
    sandbox = await startSandbox(ingress.url, sandboxPort);
    for (const spec of [Topics.webhookRaw, Topics.webhookQuarantine, Topics.inboundMessage, Topics.messageStatus, Topics.accountEvent]) {
      collectors[spec.name] = await tk.collect(spec.name);
    }
    pg = new Client({ connectionString: ingress.db.appUrl('ingress') });
    await pg.connect();
  });

  afterAll(async () => {
    delete process.env.ROADS_APP_SECRET_PREVIOUS;
    await pg?.end();
    await ingress?.close();
    await sandbox?.close();
    await ingress?.db.drop();
    await tk?.cleanup();
  });

  const inbound = () => events<InboundMessageV1>(collectors[Topics.inboundMessage.name].records);
  const statuses = () => events<MessageStatusV1>(collectors[Topics.messageStatus.name].records);
  const accountEvents = () => events<AccountEventV1>(collectors[Topics.accountEvent.name].records);
  const quarantine = () => events<WebhookQuarantineV1>(collectors[Topics.webhookQuarantine.name].records);
  const raw = () => events<WebhookRawV2>(collectors[Topics.webhookRaw.name].records);

  async function rawHighWatermark(): Promise<number> {
    const admin = tk.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(`${tk.prefix}${Topics.webhookRaw.name}`);
      return offsets.reduce((sum, o) => sum + Number(o.high), 0);
    } finally {
      await admin.disconnect();
    }
  }

  async function post(appId: string, body: string | Buffer, headers: Record<string, string>): Promise<Response> {
    return fetch(`${ingress.url}/webhooks/whatsapp/${appId}`, { method: 'POST', headers, body });
  }
  const signed = (secret: string, body: string | Buffer) => ({
    'content-type': 'application/json',
    'x-hub-signature-256': signBody(secret, body),
  });

  describe('GET verification handshake', () => {
    const verify = (appId: string, query: string) => fetch(`${ingress.url}/webhooks/whatsapp/${appId}?${query}`);

    it('echoes the challenge as plain text for the app’s verify token', async () => {
      const response = await verify('roads-app', 'hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=sandbox-roads-verify-token');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await response.text()).toBe('1158201444');
    });

    it('answers 403 to a wrong token, another app’s token, a wrong mode or an unknown app', async () => {
      for (const [appId, query] of [
        ['roads-app', 'hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope'],
        ['roads-app', 'hub.mode=subscribe&hub.challenge=1&hub.verify_token=sandbox-immigration-verify-token'],
        ['roads-app', 'hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=sandbox-roads-verify-token'],
        ['roads-app', 'hub.mode=subscribe&hub.verify_token=sandbox-roads-verify-token'],
        ['ghost-app', 'hub.mode=subscribe&hub.challenge=1&hub.verify_token=sandbox-roads-verify-token'],
      ]) {
        const response = await verify(appId, query);
        expect(response.status).toBe(403);
        expect(await response.json()).toMatchObject({ code: 'verification_failed' });
      }
    });
  });

  describe('POST: refusals publish nothing; signed bad content goes to quarantine', () => {
    it('401 for a missing, malformed or wrong signature; 404 unknown app; 415; 413', async () => {
      const body = fixtureText('text');
      const rawBefore = raw().length;
      expect((await post('roads-app', body, { 'content-type': 'application/json' })).status).toBe(401);
      expect((await post('roads-app', body, { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=abc' })).status).toBe(401);
      const wrong = await post('roads-app', body, signed(IMMIGRATION_SECRET, body));
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toEqual({ code: 'invalid_signature', message: expect.any(String) });
      // One byte changed after signing.
      expect((await post('roads-app', body.replace('Hola', 'Hela'), signed(ROADS_SECRET, body))).status).toBe(401);
      expect((await post('ghost-app', body, signed(ROADS_SECRET, body))).status).toBe(404);
      expect((await post('roads-app', body, { ...signed(ROADS_SECRET, body), 'content-type': 'text/plain' })).status).toBe(415);
      expect(
        (await post('roads-app', 'a=1', { ...signed(ROADS_SECRET, 'a=1'), 'content-type': 'application/x-www-form-urlencoded' })).status,
      ).toBe(415);
      const huge = JSON.stringify({ object: 'whatsapp_business_account', entry: [], pad: 'x'.repeat(4 * 1024 * 1024) });
      expect((await post('roads-app', huge, signed(ROADS_SECRET, huge))).status).toBe(413);
      // The same body streamed without a declared length (chunked): refused once it passes the limit.
      const chunked = new ReadableStream({
        start(controller) {
          for (let i = 0; i < huge.length; i += 256 * 1024) controller.enqueue(new TextEncoder().encode(huge.slice(i, i + 256 * 1024)));
          controller.close();
        },
      });
      const streamed = await fetch(`${ingress.url}/webhooks/whatsapp/roads-app`, {
        method: 'POST',
        headers: signed(ROADS_SECRET, huge),
        body: chunked,
        duplex: 'half',
      } as RequestInit);
      expect(streamed.status).toBe(413);
      expect(await streamed.json()).toMatchObject({ code: 'payload_too_large' });
      await sleep(1500);
      expect(raw().length).toBe(rawBefore);
    });

    it('200 (by default) for signed bodies that are not JSON or not WhatsApp, once they are kept in quarantine', async () => {
      const before = await rawHighWatermark();
      const notJson = '{"object":"whatsapp_business_account","entry":[';
      const notJsonResponse = await post('roads-app', notJson, signed(ROADS_SECRET, notJson));
      expect(notJsonResponse.status).toBe(200);
      expect(await notJsonResponse.text()).toBe('');
      const page = JSON.stringify({ object: 'page', entry: [{ id: '1' }] });
      const pageResponse = await post('roads-app', page, signed(ROADS_SECRET, page));
      expect(pageResponse.status).toBe(200);
      expect(await rawHighWatermark()).toBe(before);
      const kept = await waitFor(() => {
        const q = quarantine().filter((e) => e.data.body === notJson || e.data.body === page);
        return q.length === 2 ? q : undefined;
      });
      expect(kept.map((e) => e.data.reason).sort()).toEqual(['not-whatsapp', 'unparseable']);
      expect(kept[0].data).toMatchObject({ tenantId: 'roads-agency', appId: 'roads-app' });
    });
  });

  describe('POST: accepted webhooks', () => {
    it('answers 200 once the raw bytes are on Kafka, and the normalizer emits the message', async () => {
      const bytes = fixtureBytes('arabic-emoji-text');
      const before = await rawHighWatermark();
      const response = await post('immigration-app', bytes, signed(IMMIGRATION_SECRET, bytes));
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('');
      // Durable first: the broker already holds the record when the 200 arrives.
      expect(await rawHighWatermark()).toBe(before + 1);
      const stored = await waitFor(() => raw().find((e) => e.data.body === bytes.toString('utf8')));
      expect(stored.data).toMatchObject({
        tenantId: 'immigration-dept',
        appId: 'immigration-app',
        signature: signBody(IMMIGRATION_SECRET, bytes),
      });
      // The record's value is the request's bytes: its own signature attribute verifies against it.
      const record = collectors[Topics.webhookRaw.name].records.find((r) => r.headers.ce_id === stored.id)!;
      expect(Buffer.from(record.value!, 'utf8').equals(bytes)).toBe(true);
      expect(signBody(IMMIGRATION_SECRET, Buffer.from(record.value!, 'utf8'))).toBe(record.headers.ce_wasignature);
      const message = await waitFor(() => inbound().find((e) => e.data.messageId === 'wamid.ARABIC1'), { timeoutMs: 60000 });
      expect(message.data.text).toBe('متى تنتهي صلاحية تأشيرتي؟ 🙏🏽 شكراً — café @ señor 👍');
      expect(message.key).toBe('immigration-dept:971501234567');
      expect(message.data.rawEventId).toBe(stored.id);
    });

    it('takes a maximal batch: about 3 MB, 1000 messages, every one normalized', async () => {
      const messages = Array.from({ length: 1000 }, (_, i) => ({
        from: '573001234567',
        id: `wamid.BIG${i}`,
        timestamp: '1767225600',
        type: 'text',
        text: { body: `${i} ${'x'.repeat(3100)}` },
      }));
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '100000000000001',
            changes: [{ field: 'messages', value: { metadata: { phone_number_id: '310000000000001' }, messages } }],
          },
        ],
      });
      expect(body.length).toBeGreaterThan(3 * 1024 * 1024);
      const response = await post('roads-app', body, signed(ROADS_SECRET, body));
      expect(response.status).toBe(200);
      await waitFor(() => inbound().filter((e) => e.data.messageId.startsWith('wamid.BIG')).length === 1000, {
        timeoutMs: 90000,
        what: '1000 messages of the big batch',
      });
    });

    it('accepts the previous secret during a rotation', async () => {
      const body = fixtureText('template-rejected')
        .replace('visa_expiry_reminder', 'license_rotation_check')
        .replace('100000000000002', '100000000000001');
      const response = await post('roads-app', body, signed(ROADS_PREVIOUS_SECRET, body));
      expect(response.status).toBe(200);
      const event = await waitFor(() => accountEvents().find((e) => e.data.templateName === 'license_rotation_check'), {
        timeoutMs: 60000,
      });
      expect(event.data).toMatchObject({ tenantId: 'roads-agency', kind: 'template_status', event: 'REJECTED' });
    });
  });

  describe('sandbox → ingress → typed events', () => {
    const citizen = { tenant: 'roads-agency', from: '+573001234567', profileName: 'Ana María' };

    it('delivers every message type, batched, and each arrives typed', async () => {
      const specs = [
        { ...citizen, type: 'text', text: 'hola 👋' },
        { ...citizen, type: 'image', media: { caption: 'hueco', includeUrl: true } },
        { ...citizen, type: 'audio', media: { voice: true } },
        { ...citizen, type: 'video', media: {} },
        { ...citizen, type: 'document', media: { filename: 'licencia.pdf', mimeType: 'application/pdf' } },
        { ...citizen, type: 'sticker', media: { animated: true } },
        { ...citizen, type: 'location', location: { latitude: 4.6, longitude: -74.08, name: 'Peaje' } },
        {
          ...citizen,
          type: 'contacts',
          contacts: [{ name: { formatted_name: 'Carlos' }, phones: [{ phone: '+573007654321', wa_id: '573007654321' }] }],
        },
        {
          ...citizen,
          type: 'interactive',
          interactive: { kind: 'button_reply', id: 'yes', title: 'Sí' },
          context: { messageId: 'wamid.OURS' },
        },
        // Replies answer a message, as at Meta (the sandbox refuses one without context).
        {
          ...citizen,
          type: 'interactive',
          interactive: { kind: 'list_reply', id: 'svc', title: 'Servicio', description: 'd' },
          context: { messageId: 'wamid.OURS' },
        },
        { ...citizen, type: 'interactive', interactive: { kind: 'nfm_reply', response: { flow_token: 'case-1', plate: 'ABC123' } } },
        { ...citizen, type: 'button', button: { text: 'Recordar luego', payload: 'snooze' }, context: { messageId: 'wamid.OURS' } },
        { ...citizen, type: 'reaction', reaction: { messageId: 'wamid.OURS', emoji: '👍' } },
        {
          ...citizen,
          type: 'order',
          order: { catalogId: '9001', items: [{ productRetailerId: 'p', quantity: 1, itemPrice: 10, currency: 'COP' }] },
        },
        { ...citizen, type: 'system', system: { newWaId: '+573009998877' } },
        { ...citizen, type: 'unsupported', unsupported: { type: 'poll_update' } },
        { ...citizen, type: 'hologram', extra: { hologram: { frames: 3 } } },
        { tenant: 'roads-agency', from: '', userId: 'CO.bsuid.123abc', type: 'text', text: 'soy un usuario' },
      ];
      const { status, json } = await sandboxPost(sandbox, '/sandbox/inbound/batch', { messages: specs, layout: 'change-per-message' });
      expect(status).toBe(200);
      expect(json.delivery).toMatchObject({ state: 'delivered', attempts: 1, statuses: [200] });
      const wamids = json.delivery.wamids;
      const arrived = await waitFor(
        () => {
          const byId = new Map(inbound().map((e) => [e.data.messageId, e.data]));
          return wamids.every((w) => byId.has(w)) ? wamids.map((w) => byId.get(w)!) : undefined;
        },
        { timeoutMs: 60000, what: 'all injected messages on the inbound topic' },
      );
      expect(arrived.map((m) => m.type)).toEqual([
        'text',
        'image',
        'audio',
        'video',
        'document',
        'sticker',
        'location',
        'contacts',
        'interactive',
        'interactive',
        'interactive',
        'button',
        'reaction',
        'order',
        'system',
        'unsupported',
        'unknown',
        'text',
      ]);
      expect(arrived[0]).toMatchObject({
        tenantId: 'roads-agency',
        text: 'hola 👋',
        contact: { waId: '573001234567', profileName: 'Ana María' },
      });
      expect(arrived[1].media).toMatchObject({
        caption: 'hueco',
        mimeType: 'image/jpeg',
        url: expect.stringContaining('/sandbox/media-download/'),
      });
      expect(arrived[2].media?.voice).toBe(true);
      expect(arrived[8]).toMatchObject({ interactive: { kind: 'button_reply', id: 'yes' }, context: { messageId: 'wamid.OURS' } });
      expect(arrived[10].interactive).toMatchObject({ kind: 'nfm_reply', id: 'case-1', response: { plate: 'ABC123' } });
      expect(arrived[14].system).toMatchObject({ newWaId: '573009998877' });
      expect(arrived[16].original).toMatchObject({ type: 'hologram', hologram: { frames: 3 } });
      expect(arrived[17].contact).toEqual({ bsuid: 'CO.bsuid.123abc', profileName: 'Sandbox Citizen' });
    });

    it('statuses and template events posted through the sandbox arrive typed and deduplicated per (wamid, status)', async () => {
      for (const name of [
        'status-sent-pricing',
        'status-delivered',
        'status-failed-131049',
        'template-approved',
        'user-preferences-stop',
        'value-errors-130429',
      ]) {
        const { json } = await sandboxPost(sandbox, '/sandbox/inbound/webhooks', {
          tenant: 'immigration-dept',
          payload: JSON.parse(fixtureText(name)),
        });
        expect(json.delivery.state).toBe('delivered');
      }
      const forOurMsg = await waitFor(
        () => {
          const found = statuses().filter((e) => e.data.messageId === 'wamid.OUR_MSG1');
          return found.length === 2 ? found : undefined;
        },
        { timeoutMs: 60000 },
      );
      expect(forOurMsg.map((e) => e.data.status)).toEqual(['sent', 'delivered']);
      await waitFor(() => statuses().some((e) => e.data.messageId === 'wamid.OUR_MSG3' && e.data.errors?.[0]?.code === 131049));
      const template = await waitFor(() =>
        accountEvents().find((e) => e.data.templateName === 'visa_expiry_reminder' && e.data.event === 'APPROVED'),
      );
      expect(template.data).toMatchObject({ kind: 'template_status', templateLanguage: 'en_US', wabaId: '100000000000002' });
      await waitFor(() => accountEvents().find((e) => e.data.kind === 'user_preference' && e.data.event === 'stop'));
      // Errors Meta reports for a whole change are published, and counted for alerting.
      await waitFor(() => accountEvents().find((e) => e.data.kind === 'webhook_error' && e.data.event === '130429'));
      const metrics = await (await fetch(`${ingress.url}/metrics`)).text();
      expect(metrics).toMatch(/webhook_change_errors_total\{[^}]*tenant="immigration-dept",code="130429"[^}]*\} 1/);
    });

    it('an unknown phone number is quarantined, not dropped', async () => {
      const { json } = await sandboxPost(sandbox, '/sandbox/inbound/webhooks', {
        tenant: 'roads-agency',
        payload: JSON.parse(fixtureText('unknown-phone-number')),
      });
      expect(json.delivery.state).toBe('delivered');
      const kept = await waitFor(() => quarantine().find((e) => e.data.reason === 'unknown-phone-number'), { timeoutMs: 60000 });
      expect(kept.data).toMatchObject({ tenantId: 'roads-agency', path: 'entry[0].changes[0]' });
      expect(kept.data.body).toContain('wamid.UNKPHONE1');
      expect(inbound().some((e) => e.data.messageId === 'wamid.UNKPHONE1')).toBe(false);
    });
  });

  describe('dedupe', () => {
    it('the same webhook delivered 3 times: three raw records, one archive row, one event', async () => {
      const { json } = await sandboxPost(sandbox, '/sandbox/inbound/messages', {
        tenant: 'roads-agency',
        from: '+573001112233',
        type: 'text',
        text: 'tres veces',
        delivery: { duplicates: 2 },
      });
      expect(json.delivery).toMatchObject({ state: 'delivered', statuses: [200, 200, 200] });
      const [wamid] = json.delivery.wamids;
      await waitFor(() => inbound().some((e) => e.data.messageId === wamid), { timeoutMs: 60000 });
      const copies = raw().filter((e) => e.data.body.includes(wamid));
      expect(copies).toHaveLength(3);
      expect(new Set(copies.map((c) => c.id)).size).toBe(1);
      // Let every copy pass the normalizer and the relay before counting.
      await waitFor(async () => {
        const r = await pg.query('SELECT count(*)::int AS n FROM ingress.outbox WHERE published_at IS NULL');
        return r.rows[0].n === 0;
      });
      await sleep(2000);
      expect(inbound().filter((e) => e.data.messageId === wamid)).toHaveLength(1);
      const archive = await pg.query('SELECT count(*)::int AS n FROM ingress.raw_webhook WHERE body LIKE $1', [`%${wamid}%`]);
      expect(archive.rows[0].n).toBe(1);
      const keys = await pg.query("SELECT count(*)::int AS n FROM ingress.webhook_dedupe WHERE kind = 'message' AND dedupe_key = $1", [
        wamid,
      ]);
      expect(keys.rows[0].n).toBe(1);
    });
  });

  describe('media fetch path', () => {
    it('resolves and downloads an inbound media id with the tenant token, stores it once, serves it back', async () => {
      const roads = await bearer('roads-agency');
      const bytes = Buffer.from('%PDF-1.4 sandbox licence scan \u00e9');
      const { json } = await sandboxPost(sandbox, '/sandbox/inbound/messages', {
        tenant: 'roads-agency',
        from: '+573001234567',
        type: 'document',
        media: { filename: 'licencia vía.pdf', mimeType: 'application/pdf', dataBase64: bytes.toString('base64') },
      });
      const [wamid] = json.delivery.wamids;
      const message = await waitFor(() => inbound().find((e) => e.data.messageId === wamid), { timeoutMs: 60000 });
      const mediaId = message.data.media!.mediaId;

      const fetched = await fetch(`${ingress.url}/v1/media/${mediaId}?filename=${encodeURIComponent('licencia vía.pdf')}`, {
        method: 'POST',
        headers: roads,
      });
      expect(fetched.status).toBe(200);
      const reference = (await fetched.json()) as { reference: string; contentPath: string; fileSize: number; mimeType: string };
      expect(reference).toMatchObject({
        reference: `media:roads-agency/${mediaId}`,
        contentPath: `/v1/media/${mediaId}/content`,
        fileSize: bytes.length,
        mimeType: 'application/pdf',
      });

      const content = await fetch(`${ingress.url}${reference.contentPath}`, { headers: roads });
      expect(content.status).toBe(200);
      expect(content.headers.get('content-type')).toBe('application/pdf');
      expect(content.headers.get('content-disposition')).toBe(`attachment; filename*=UTF-8''${encodeURIComponent('licencia vía.pdf')}`);
      expect(Buffer.from(await content.arrayBuffer()).equals(bytes)).toBe(true);

      // Meta forgets the id after 7 days; our copy stays and a second fetch does not call Meta.
      expect((await fetch(`${sandbox.url}/sandbox/media/${mediaId}`, { method: 'DELETE' })).status).toBe(204);
      const again = await fetch(`${ingress.url}/v1/media/${mediaId}`, { method: 'POST', headers: roads });
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual(reference);

      // Another tenant's token does not see it; no token is refused.
      const immigration = await bearer('immigration-dept');
      expect((await fetch(`${ingress.url}${reference.contentPath}`, { headers: immigration })).status).toBe(404);
      expect((await fetch(`${ingress.url}${reference.contentPath}`)).status).toBe(401);
    });

    it('404 for media Meta does not have, or that belongs to another tenant', async () => {
      const roads = await bearer('roads-agency');
      const expired = await fetch(`${ingress.url}/v1/media/123456789012345`, { method: 'POST', headers: roads });
      expect(expired.status).toBe(404);
      expect(await expired.json()).toMatchObject({ code: 'media_not_found' });
      const upload = (await (
        await fetch(`${sandbox.url}/sandbox/media`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ tenant: 'immigration-dept', mimeType: 'image/png' }),
        })
      ).json()) as { id: string };
      const foreign = await fetch(`${ingress.url}/v1/media/${upload.id}`, { method: 'POST', headers: roads });
      expect(foreign.status).toBe(404);
      const own = await fetch(`${ingress.url}/v1/media/${upload.id}`, { method: 'POST', headers: await bearer('immigration-dept') });
      expect(own.status).toBe(200);
    });
  });

  it('counts webhook outcomes in /metrics', async () => {
    const metrics = await (await fetch(`${ingress.url}/metrics`)).text();
    expect(metrics).toMatch(/webhook_requests_total\{[^}]*app="roads-app"[^}]*outcome="accepted"[^}]*\} \d+/);
    for (const outcome of ['bad_signature', 'missing_signature', 'unsupported_media_type', 'too_large', 'not_json', 'not_whatsapp']) {
      expect(metrics).toMatch(new RegExp(`webhook_requests_total\\{[^}]*outcome="${outcome}"`));
    }
    expect(metrics).toMatch(/webhook_requests_total\{[^}]*app="unknown"[^}]*outcome="unknown_app"/);
    expect(metrics).toMatch(/webhook_quarantined_total\{[^}]*reason="unknown-phone-number"/);
    expect(metrics).toMatch(/webhook_normalized_events_total\{[^}]*outcome="duplicate"/);
  });
});
