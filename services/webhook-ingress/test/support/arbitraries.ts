import fc from 'fast-check';
import { INBOUND_MESSAGE_TYPES } from '@wa/contracts';

// Values that look like Meta's where it matters (ids we know, fields we route on) and are
// arbitrary everywhere else, so the generator reaches deep into the parser.
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined));
const phoneNumberId = fc.constantFrom('310000000000001', '310000000000002', '310000000000003', '319999999999999', '');
const wabaId = fc.constantFrom('100000000000001', '100000000000002', '100000000000099');
// Every documented type, plus one Meta might add later.
export const messageType = fc.constantFrom(...INBOUND_MESSAGE_TYPES.filter((type) => type !== 'unknown'), 'future_type');
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
export const whatsappLike = fc.record({
  object: fc.constant('whatsapp_business_account'),
  entry: fc.array(
    fc.oneof(fc.record({ id: wabaId, time: anyValue, changes: fc.oneof(fc.array(change, { maxLength: 4 }), anyValue) }), anyValue),
    {
      maxLength: 3,
    },
  ),
});
