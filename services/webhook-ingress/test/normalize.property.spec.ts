import fc from 'fast-check';
import { AccountEventV1, InboundMessageV1, MessageStatusV1, validatePayload, WebhookQuarantineV1 } from '@wa/contracts';
import { normalizeWebhook, type NormalizedItem } from '../src/normalizer/normalize';
import { messageType, whatsappLike } from './support/arbitraries';
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
