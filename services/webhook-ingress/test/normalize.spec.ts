import { AccountEventV1, InboundMessageV1, MessageStatusV1, validatePayload, WebhookQuarantineV1 } from '@wa/contracts';
import { normalizeWebhook, normalizeTemplateLanguage, type NormalizedItem, type TenantDirectory } from '../src/normalizer/normalize';
import { fixtureNames, fixtureText, sandboxRegistry, sharedAppRegistry } from './support/fixtures';

const registry = sandboxRegistry();
const RAW_EVENT_ID = '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b';
const RECEIVED_AT = '2026-01-01T00:10:00.000Z';

const CONTRACTS: Record<NormalizedItem['topic'], new () => object> = {
  inboundMessage: InboundMessageV1,
  messageStatus: MessageStatusV1,
  accountEvent: AccountEventV1,
  webhookQuarantine: WebhookQuarantineV1,
};

function appOf(body: string): string {
  return body.includes('"100000000000002"') && !body.includes('"100000000000001"') ? 'immigration-app' : 'roads-app';
}

function normalize(name: string, directory: TenantDirectory = registry, appId?: string): NormalizedItem[] {
  const body = fixtureText(name);
  return normalizeWebhook(body, { appId: appId ?? appOf(body), receivedAt: RECEIVED_AT, rawEventId: RAW_EVENT_ID }, directory);
}

type DataOf<T extends NormalizedItem['topic']> = Extract<NormalizedItem, { topic: T }>['data'];

function only<T extends NormalizedItem['topic']>(items: NormalizedItem[], topic: T): DataOf<T> {
  expect(items.map((i) => i.topic)).toEqual([topic]);
  return items[0].data as unknown as DataOf<T>;
}

const message = (name: string) => only(normalize(name), 'inboundMessage');
const status = (name: string) => only(normalize(name), 'messageStatus');
const account = (name: string) => only(normalize(name), 'accountEvent');

describe('the normalizer over the fixture corpus', () => {
  it.each(fixtureNames())('%s: yields events that all satisfy their contracts', (name) => {
    const directory = name.startsWith('batch') ? sharedAppRegistry() : registry;
    const items = normalize(name, directory);
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) {
      expect(validatePayload(CONTRACTS[item.topic], item.data).errors).toEqual([]);
      expect(item.data.tenantId).toBe(item.tenantId);
      expect(item.dedupeKey.length).toBeGreaterThan(0);
    }
  });

  describe('messages', () => {
    it('text: tenant, number, contact, timestamps and body', () => {
      const m = message('text');
      expect(m).toMatchObject({
        tenantId: 'roads-agency',
        phoneNumberId: '310000000000001',
        wabaId: '100000000000001',
        messageId: 'wamid.TEXT1',
        type: 'text',
        text: 'Hola, ¿cuándo vence mi licencia?',
        contact: { waId: '573001234567', phone: '+573001234567', profileName: 'Ana María' },
        sentAt: '2026-01-01T00:00:00.000Z',
        receivedAt: RECEIVED_AT,
        rawEventId: RAW_EVENT_ID,
      });
      expect(m.original).toBeUndefined();
    });

    it('text with a reply context carries the quoted wamid', () => {
      expect(message('text-reply-context').context).toEqual({ from: '5716010100', messageId: 'wamid.OUR_QUESTION' });
    });

    it('forwarded text and click-to-WhatsApp referral', () => {
      expect(message('text-forwarded').context).toEqual({ forwarded: true });
      // Meta sends frequently_forwarded alone for a message forwarded more than five times.
      expect(message('text-frequently-forwarded').context).toEqual({ forwarded: true, frequentlyForwarded: true });
      expect(message('text-ctwa-referral').referral).toMatchObject({
        sourceType: 'ad',
        ctwaClid: 'ARAkdf9',
        welcomeMessage: { text: 'Hola' },
      });
    });

    it('image with and without the new url field', () => {
      expect(message('image-without-url').media).toEqual({
        mediaId: '880000000000011',
        mimeType: 'image/jpeg',
        sha256: 'Jm2l7bC0T2zX9G7yF2b7zN0mW3cT0rTt2qQ9Tq1cY0A=',
        caption: 'el hueco en la vía',
      });
      expect(message('image-with-url').media?.url).toMatch(/^https:\/\/lookaside\.fbsbx\.com\//);
    });

    it('audio voice note, video, document, sticker', () => {
      expect(message('audio-voice')).toMatchObject({ type: 'audio', media: { mediaId: '880000000000021', voice: true } });
      expect(message('video')).toMatchObject({ type: 'video', media: { caption: 'accidente', mimeType: 'video/mp4' } });
      expect(message('document')).toMatchObject({
        tenantId: 'immigration-dept',
        type: 'document',
        media: { mediaId: '880000000000001', filename: 'passport.pdf', caption: 'my passport copy' },
      });
      expect(message('sticker')).toMatchObject({ type: 'sticker', media: { mimeType: 'image/webp', animated: false } });
    });

    it('location keeps numbers', () => {
      expect(message('location').location).toEqual({
        latitude: 4.60971,
        longitude: -74.08175,
        name: 'Peaje Km 14',
        address: 'Autopista Norte, Bogotá',
      });
    });

    it('contacts arrive camelCased', () => {
      expect(message('contacts').contacts).toEqual([
        expect.objectContaining({
          name: { formattedName: 'Carlos Pérez', firstName: 'Carlos', lastName: 'Pérez' },
          phones: [{ phone: '+57 300 765 4321', waId: '573007654321', type: 'CELL' }],
        }),
      ]);
    });

    it('interactive replies: button, list, flow (nfm) with parsed response_json', () => {
      expect(message('interactive-button-reply')).toMatchObject({
        type: 'interactive',
        interactive: { kind: 'button_reply', id: 'renew_yes', title: 'Sí, renovar' },
        context: { messageId: 'wamid.OUR_BUTTONS' },
      });
      expect(message('interactive-list-reply').interactive).toEqual({
        kind: 'list_reply',
        id: 'svc_visa_renewal',
        title: 'Visa renewal',
        description: 'Residence visa',
      });
      expect(message('interactive-nfm-reply').interactive).toEqual({
        kind: 'nfm_reply',
        id: 'case-5521:7c1e',
        name: 'flow',
        title: 'Sent',
        response: { flow_token: 'case-5521:7c1e', emirates_id: '784-1990-1234567-1', preferred_date: '2026-03-01' },
        responseJson: '{"flow_token":"case-5521:7c1e","emirates_id":"784-1990-1234567-1","preferred_date":"2026-03-01"}',
      });
    });

    it('template quick-reply button with our payload', () => {
      expect(message('template-button')).toMatchObject({
        type: 'button',
        button: { text: 'Remind me later', payload: 'reminder:9f2c:snooze' },
        context: { messageId: 'wamid.OUR_TEMPLATE' },
      });
    });

    it('reaction added, and removed (no emoji)', () => {
      expect(message('reaction-add').reaction).toEqual({ messageId: 'wamid.OUR_MSG', emoji: '👍' });
      expect(message('reaction-remove').reaction).toEqual({ messageId: 'wamid.OUR_MSG' });
    });

    it('order items', () => {
      expect(message('order').order).toEqual({
        catalogId: '900000000000001',
        text: 'Dos placas',
        productItems: [{ productRetailerId: 'plate-std', quantity: 2, itemPrice: 45000, currency: 'COP' }],
      });
    });

    it('system user_changed_number has no contacts; keyed on the old id, names the new one', () => {
      const m = message('system-user-changed-number');
      expect(m.system).toEqual({
        type: 'user_changed_number',
        body: 'Ana María changed from 573001234567 to 573009998877',
        newWaId: '573009998877',
      });
      expect(m.contact).toEqual({ waId: '573001234567', phone: '+573001234567' });
    });

    it('unsupported (131051) keeps its errors and the original', () => {
      const m = message('unsupported-131051');
      expect(m.type).toBe('unsupported');
      expect(m.errors).toEqual([
        {
          code: 131051,
          title: 'Message type unknown',
          message: 'Message type unknown',
          details: 'Message type is currently not supported.',
        },
      ]);
      expect(m.original).toMatchObject({ unsupported: { type: 'poll_update' } });
      const withHref = fixtureText('unsupported-131051').replace('"error_data"', '"href": "/docs/errors#131051", "error_data"');
      const [item] = normalizeWebhook(withHref, { appId: 'immigration-app', receivedAt: RECEIVED_AT, rawEventId: RAW_EVENT_ID }, registry);
      expect((item.data as InboundMessageV1).errors?.[0]).toMatchObject({ code: 131051, href: '/docs/errors#131051' });
    });

    it('an unknown type is kept as unknown with the original, never dropped', () => {
      const m = message('unknown-type');
      expect(m.type).toBe('unknown');
      expect(m.original).toMatchObject({ type: 'hologram', hologram: { frames: 12 } });
      expect(m.contact.waId).toBe('573001234567');
    });

    it('a username user (empty wa_id) is identified by the business-scoped user id', () => {
      const m = message('username-bsuid-contact');
      expect(m.contact).toEqual({ bsuid: 'CO.bsuid.8f3a2c1d9e', profileName: 'ana.vial' });
    });

    it("keeps the business-scoped user id's companions: username, country code, parent BSUID", () => {
      expect(message('username-bsuid-parent').contact).toEqual({
        bsuid: 'CO.bsuid.8f3a2c1d9e',
        profileName: 'Ana Vial',
        username: '@ana.vial',
        countryCode: 'CO',
        parentUserId: 'CO.ENT.11815799212886844830',
      });
    });

    it('Arabic and emoji text decode from Meta\u2019s \\u escapes', () => {
      const m = message('arabic-emoji-text');
      expect(m.text).toBe('متى تنتهي صلاحية تأشيرتي؟ 🙏🏽 شكراً — café @ señor 👍');
      expect(m.contact.profileName).toBe('فاطمة 🌸');
    });

    it('dedupes on the wamid: a wamid listed twice in one batch is one key', () => {
      const items = normalize('duplicate-wamid-in-one-batch');
      expect(items.map((i) => i.dedupeKey)).toEqual(['wamid.DUP1', 'wamid.DUP1']);
      expect(normalize('text-duplicate-delivery')[0].dedupeKey).toBe(normalize('text')[0].dedupeKey);
    });
  });

  describe('statuses', () => {
    it('sent with pricing and callback data', () => {
      expect(status('status-sent-pricing')).toMatchObject({
        tenantId: 'immigration-dept',
        messageId: 'wamid.OUR_MSG1',
        status: 'sent',
        recipientId: '971501234567',
        bizOpaqueCallbackData: 'reminder:9f2c:T-42d',
        pricing: { billable: true, pricingModel: 'PMP', type: 'regular', category: 'utility' },
      });
    });

    it('delivered, and read without delivered', () => {
      expect(status('status-delivered').status).toBe('delivered');
      expect(status('status-read-without-delivered')).toMatchObject({ status: 'read', messageId: 'wamid.OUR_MSG2' });
    });

    it('failed with its error codes, and the href of Meta\u2019s documentation', () => {
      expect(status('status-failed-131049').errors).toEqual([
        {
          code: 131049,
          title: 'This message was not delivered to maintain healthy ecosystem engagement.',
          message: 'This message was not delivered to maintain healthy ecosystem engagement.',
          details: 'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.',
          href: '/documentation/business-messaging/whatsapp/support/error-codes',
        },
      ]);
      expect(status('status-failed-131026').errors).toEqual([
        { code: 131026, title: 'Message undeliverable', message: 'Message undeliverable', details: 'Message Undeliverable.' },
      ]);
    });

    it('v23 conversation is passed on; v24 has none', () => {
      expect(status('status-v23-with-conversation').conversation).toEqual({
        id: 'c0ffee00000000000000000000000001',
        expiresAt: '2026-01-02T00:05:00.000Z',
        originType: 'utility',
      });
      expect(status('status-v24-without-conversation').conversation).toBeUndefined();
    });

    it('dedupes per (wamid, status)', () => {
      expect(normalize('status-sent-pricing')[0].dedupeKey).toBe('wamid.OUR_MSG1:sent');
      expect(normalize('status-delivered')[0].dedupeKey).toBe('wamid.OUR_MSG1:delivered');
    });
  });

  describe('account events', () => {
    it('value.errors (130429) becomes a webhook_error for the number', () => {
      expect(account('value-errors-130429')).toMatchObject({
        tenantId: 'immigration-dept',
        kind: 'webhook_error',
        event: '130429',
        reason: 'Rate limit hit',
        phoneNumberId: '310000000000002',
      });
    });

    it('template APPROVED, with en-US normalized to en_US', () => {
      expect(account('template-approved')).toMatchObject({
        tenantId: 'immigration-dept',
        wabaId: '100000000000002',
        kind: 'template_status',
        event: 'APPROVED',
        templateId: '1790000000000001',
        templateName: 'visa_expiry_reminder',
        templateLanguage: 'en_US',
        occurredAt: '2026-01-01T00:05:00.000Z',
      });
    });

    it('template REJECTED with rejection_info, PAUSED with other_info', () => {
      expect(account('template-rejected')).toMatchObject({
        event: 'REJECTED',
        reason: 'INVALID_FORMAT',
        templateLanguage: 'ar',
        details: { rejection_info: { recommendation: 'Put words or punctuation between variables.' } },
      });
      expect(account('template-paused')).toMatchObject({ event: 'PAUSED', details: { other_info: { title: 'FIRST_PAUSE' } } });
    });

    it('template quality: by field, and by shape when filed under the status field', () => {
      expect(account('template-quality-update')).toMatchObject({ kind: 'template_quality', event: 'YELLOW' });
      expect(account('template-quality-under-status-field')).toMatchObject({
        kind: 'template_quality',
        event: 'RED',
        templateLanguage: 'en_US',
      });
    });

    it('keeps template ids beyond 2^53 digit for digit', () => {
      expect(account('template-id-beyond-2-53').templateId).toBe('9876543210987654321');
    });

    it('account update and user_preferences stop', () => {
      expect(account('account-update-violation')).toMatchObject({ kind: 'account_update', event: 'ACCOUNT_VIOLATION' });
      expect(account('user-preferences-stop')).toMatchObject({
        kind: 'user_preference',
        event: 'stop',
        reason: 'marketing_messages',
        phoneNumberId: '310000000000002',
        details: { wa_id: '971501234567' },
      });
    });

    it('normalizes template language codes', () => {
      expect(normalizeTemplateLanguage('en-US')).toBe('en_US');
      expect(normalizeTemplateLanguage('pt_BR')).toBe('pt_BR');
      expect(normalizeTemplateLanguage(undefined)).toBeUndefined();
    });
  });

  describe('batches and routing', () => {
    it('a batch of 2 entries x 3 changes: every message, status and event, each to its tenant', () => {
      const items = normalize('batch-2-entries-3-changes', sharedAppRegistry(), 'roads-app');
      const keyOf = (i: NormalizedItem) => (i.topic === 'accountEvent' ? '<content hash>' : i.dedupeKey);
      expect(items.map((i) => `${i.topic} ${i.tenantId} ${keyOf(i)}`)).toEqual([
        'inboundMessage roads-agency wamid.B1',
        'inboundMessage roads-agency wamid.B2',
        'messageStatus roads-agency wamid.OUR_B1:delivered',
        'messageStatus roads-agency wamid.OUR_B1:read',
        'accountEvent roads-agency <content hash>',
        'inboundMessage immigration-dept wamid.B3',
        'inboundMessage immigration-dept wamid.B4',
        'accountEvent immigration-dept <content hash>',
      ]);
      const b4 = items[6].data as InboundMessageV1;
      expect(b4.phoneNumberId).toBe('310000000000003');
      expect((items[7].data as AccountEventV1).kind).toBe('phone_number_quality');
    });

    it('an unknown phone number goes to quarantine with the change, not dropped', () => {
      const q = only(normalize('unknown-phone-number'), 'webhookQuarantine');
      expect(q).toMatchObject({ tenantId: 'roads-agency', reason: 'unknown-phone-number', path: 'entry[0].changes[0]' });
      expect(JSON.parse(q.body)).toMatchObject({ value: { messages: [{ id: 'wamid.UNKPHONE1' }] } });
    });

    it('an unknown WABA goes to quarantine', () => {
      expect(only(normalize('unknown-waba'), 'webhookQuarantine')).toMatchObject({ tenantId: 'unrouted', reason: 'unknown-waba' });
    });

    it('a tenant is only spoken for by its own app', () => {
      const q = only(normalize('text', registry, 'immigration-app'), 'webhookQuarantine');
      expect(q).toMatchObject({ tenantId: 'roads-agency', reason: 'app-mismatch' });
    });

    it('a body that is not JSON, or not WhatsApp, is quarantined whole', () => {
      const meta = { appId: 'roads-app', receivedAt: RECEIVED_AT, rawEventId: RAW_EVENT_ID };
      expect(only(normalizeWebhook('{"object":', meta, registry), 'webhookQuarantine').reason).toBe('unparseable');
      expect(only(normalizeWebhook('{"object":"page","entry":[]}', meta, registry), 'webhookQuarantine').reason).toBe('not-whatsapp');
      expect(normalizeWebhook('{"object":"whatsapp_business_account","entry":[]}', meta, registry)).toEqual([]);
    });

    it('a broken message degrades to unknown; a message without an id is quarantined', () => {
      const meta = { appId: 'roads-app', receivedAt: RECEIVED_AT, rawEventId: RAW_EVENT_ID };
      const body = (messages: unknown[]) =>
        JSON.stringify({
          object: 'whatsapp_business_account',
          entry: [
            {
              id: '100000000000001',
              changes: [{ field: 'messages', value: { metadata: { phone_number_id: '310000000000001' }, messages } }],
            },
          ],
        });
      const [degraded] = normalizeWebhook(body([{ id: 'wamid.X', from: '573001234567', type: 'image', image: {} }]), meta, registry);
      expect(degraded.data).toMatchObject({ type: 'unknown', original: { type: 'image' } });
      const [noId] = normalizeWebhook(body([{ from: '573001234567', type: 'text', text: { body: 'x' } }]), meta, registry);
      expect(noId.data).toMatchObject({ reason: 'normalize-failed', path: 'entry[0].changes[0].value.messages[0]' });
    });
  });
});
