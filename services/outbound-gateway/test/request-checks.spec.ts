import { checkOutboundRequest, gatewayCallbackData, parseGatewayCallbackData, type OutboundRequestV1 } from '@wa/contracts';
import { buildMessagePayload } from '../src/cloud-api/payload';

const base = {
  tenantId: 'roads-agency',
  requestId: '0b3c9f0e-3f7d-4b6a-9a56-1f1d2c3b4a50',
  to: { phone: '+573001112233' },
  priority: 'reply',
  requestedBy: 'chatbot',
} as const;
const check = (r: Partial<OutboundRequestV1>) => checkOutboundRequest({ ...base, ...r } as OutboundRequestV1);

describe('request checks against WhatsApp limits (before any call)', () => {
  it('accepts well-formed requests of every kind', () => {
    expect(check({ kind: 'text', content: { body: 'Hola 👋', preview_url: true } })).toEqual([]);
    expect(check({ kind: 'template', template: { name: 'x', language: 'es' } })).toEqual([]);
    expect(check({ kind: 'document', content: { id: '123', filename: 'a.pdf', caption: 'c' } })).toEqual([]);
    expect(check({ kind: 'location', content: { latitude: 4.6, longitude: -74 } })).toEqual([]);
    expect(check({ kind: 'reaction', content: { message_id: 'wamid.X', emoji: '' } })).toEqual([]);
    expect(check({ kind: 'mark_read', content: { message_id: 'wamid.X', typing_indicator: { type: 'text' } } })).toEqual([]);
  });

  it('names the field and the limit', () => {
    expect(check({ kind: 'text', content: { body: 'x'.repeat(4097) } })).toEqual([
      'content.body: body must be at most 4096 characters (WhatsApp limit)',
    ]);
    // Characters, not UTF-16 units: 20 emoji fit a 20-character title.
    const emojiTitle = '✅'.repeat(10) + '👍'.repeat(10);
    const buttons = (titles: string[]) => ({
      kind: 'interactive' as const,
      content: {
        type: 'button',
        body: { text: 'b' },
        action: { buttons: titles.map((title, i) => ({ type: 'reply', reply: { id: `b${i}`, title } })) },
      },
    });
    expect(check(buttons([emojiTitle]))).toEqual([]);
    expect(check(buttons(['a'.repeat(21)]))[0]).toMatch(/title must be at most 20 characters/);
    expect(check(buttons(['Sí', 'sí']))).toEqual(['content.action.buttons: button titles must be unique']);
    const rows = Array.from({ length: 6 }, (_, i) => ({ id: `r${i}`, title: `Row ${i}` }));
    const list = {
      kind: 'interactive' as const,
      content: {
        type: 'list',
        body: { text: 'b' },
        action: {
          button: 'Ver',
          sections: [
            { title: 'A', rows },
            { title: 'B', rows: rows.map((r) => ({ ...r, id: `${r.id}b` })) },
          ],
        },
      },
    };
    expect(check(list)).toEqual(['content.action.sections: 12 rows in total; WhatsApp allows 10 across all sections']);
    expect(check({ kind: 'image', content: { id: '1', link: 'https://x/y.png' } })).toEqual([
      'content: give exactly one of id, link or assetId',
    ]);
    expect(check({ kind: 'audio', content: { id: '1', caption: 'no' } })).toEqual(['content.caption: audio takes no caption']);
    expect(check({ kind: 'image', content: { link: 'http://insecure/x.png' } })[0]).toMatch(/https/);
    expect(check({ kind: 'text' })).toEqual(['content is required for kind text']);
    expect(check({ kind: 'text', to: {}, content: { body: 'x' } })).toEqual(['to: phone (E.164) or waId is required']);
  });

  it('round-trips the callback data that names the request in status webhooks', () => {
    expect(parseGatewayCallbackData(gatewayCallbackData(base.requestId))).toEqual({ requestId: base.requestId });
    expect(parseGatewayCallbackData(gatewayCallbackData(base.requestId, 'reminder:9f2c'))).toEqual({
      requestId: base.requestId,
      callbackData: 'reminder:9f2c',
    });
    expect(parseGatewayCallbackData('reminder:9f2c')).toBeUndefined();
  });

  it('builds the Cloud API body: E.164 recipient, context, callback data, media by id', () => {
    const payload = buildMessagePayload(
      {
        ...base,
        kind: 'document',
        content: { assetId: 'a', filename: 'r.pdf' },
        replyToMessageId: 'wamid.IN',
        callbackData: 'case-1',
      } as OutboundRequestV1,
      {
        mediaId: '999',
      },
    );
    expect(payload).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '+573001112233',
      type: 'document',
      document: { id: '999', filename: 'r.pdf' },
      context: { message_id: 'wamid.IN' },
      biz_opaque_callback_data: `${base.requestId}|case-1`,
    });
    expect(
      buildMessagePayload({
        ...base,
        to: { waId: '573001112233' },
        kind: 'mark_read',
        content: { message_id: 'wamid.IN' },
      } as OutboundRequestV1),
    ).toEqual({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.IN',
    });
  });
});
