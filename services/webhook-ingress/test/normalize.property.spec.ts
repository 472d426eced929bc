import fc from 'fast-check';
import { AccountEventV1, InboundMessageV1, MessageStatusV1, validatePayload, WebhookQuarantineV1 } from '@wa/contracts';
import { normalizeWebhook, type NormalizedItem } from '../src/normalizer/normalize';
import { sharedAppRegistry } from './support/fixtures';

const registry = sharedAppRegistry();
const meta = { appId: 'roads-app', receivedAt: '2026-01-01T00:00:00.000Z', rawEventId: '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b' };
const CONTRACTS: Record<NormalizedItem['topic'], new () => object> = {
  inboundMessage: InboundMessageV1,
  messageStatus: MessageStatusV1,
  accountEvent: AccountEventV1,
  webhookQuarantine: WebhookQuarantineV1,
};

function assertTotal(body: string): NormalizedItem[] {
  const items = normalizeWebhook(body, meta, registry);
  for (const item of items) {
    const { errors } = validatePayload(CONTRACTS[item.topic], item.data);
    if (errors.length) throw new Error(`${item.topic} invalid: ${errors.join('; ')}`);
  }
  return items;
}

// Values that look like Meta's where it matters (ids we know, fields we route on) and are
// arbitrary everywhere else, so the generator reaches deep into the parser.
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined));
const phoneNumberId = fc.constantFrom('310000000000001', '310000000000002', '310000000000003', '319999999999999', '');
const wabaId = fc.constantFrom('100000000000001', '100000000000002', '100000000000099');
const messageType = fc.constantFrom(
  'text',
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'reaction',
  'order',
  'system',
  'unsupported',
  'future_type',
);
const message = fc.record(
  {
    from: fc.oneof(fc.constantFrom('573001234567', '', '971501234567'), fc.string()),
    id: fc.oneof(fc.string({ minLength: 1 }), fc.constant('wamid.SAME'), anyValue),
    timestamp: fc.oneof(fc.constant('1767225600'), fc.integer(), fc.string(), anyValue),
    type: messageType,
    text: anyValue,
    image: anyValue,
    location: fc.oneof(fc.record({ latitude: fc.double(), longitude: fc.double() }), anyValue),
    interactive: anyValue,
    reaction: anyValue,
    context: anyValue,
    errors: anyValue,
  },
  { requiredKeys: [] },
);
const status = fc.record(
  {
    id: fc.oneof(fc.string(), anyValue),
    status: fc.oneof(fc.constantFrom('sent', 'delivered', 'read', 'failed', 'played', 'deleted'), anyValue),
    timestamp: anyValue,
    recipient_id: anyValue,
    pricing: anyValue,
    errors: fc.oneof(fc.array(fc.record({ code: fc.oneof(fc.integer(), fc.string()), title: anyValue })), anyValue),
    conversation: anyValue,
  },
  { requiredKeys: [] },
);
const value = fc.record(
  {
    metadata: fc.oneof(fc.record({ phone_number_id: phoneNumberId }), anyValue),
    contacts: fc.oneof(fc.array(fc.record({ wa_id: fc.string(), profile: anyValue, user_id: anyValue }, { requiredKeys: [] })), anyValue),
    messages: fc.oneof(fc.array(message, { maxLength: 4 }), anyValue),
    statuses: fc.oneof(fc.array(status, { maxLength: 4 }), anyValue),
    errors: anyValue,
    user_preferences: anyValue,
    event: anyValue,
    message_template_id: anyValue,
    message_template_language: anyValue,
    new_quality_score: anyValue,
  },
  { requiredKeys: [] },
);
const change = fc.oneof(
  fc.record({
    field: fc.oneof(fc.constantFrom('messages', 'message_template_status_update', 'user_preferences', 'account_update'), fc.string()),
    value,
  }),
  anyValue,
);
const whatsappLike = fc.record({
  object: fc.constant('whatsapp_business_account'),
  entry: fc.array(
    fc.oneof(fc.record({ id: wabaId, time: anyValue, changes: fc.oneof(fc.array(change, { maxLength: 4 }), anyValue) }), anyValue),
    {
      maxLength: 3,
    },
  ),
});

describe('the normalizer is total', () => {
  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => void assertTotal(text)),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => void assertTotal(JSON.stringify(json) ?? 'null')),
      { numRuns: 500 },
    );
  });

  it('never throws on WhatsApp-shaped payloads with arbitrary parts, and only emits valid events', () => {
    fc.assert(
      fc.property(whatsappLike, (payload) => void assertTotal(JSON.stringify(payload))),
      { numRuns: 1000 },
    );
  });

  it('accounts for every message with an id: one event or one quarantine record each', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), messageType), { maxLength: 5 }), (list) => {
        const messages = list.map(([id, type], i) => ({ id: `wamid.${i}.${id}`, from: '573001234567', timestamp: '1767225600', type }));
        const body = JSON.stringify({
          object: 'whatsapp_business_account',
          entry: [
            {
              id: '100000000000001',
              changes: [{ field: 'messages', value: { metadata: { phone_number_id: '310000000000001' }, messages } }],
            },
          ],
        });
        const items = assertTotal(body);
        expect(items).toHaveLength(messages.length);
        expect(items.every((i) => i.topic === 'inboundMessage')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
