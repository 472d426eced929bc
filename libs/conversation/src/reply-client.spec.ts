import { ReplyClient, ReplyContentError } from './reply-client';
import { replyRequestId } from './reply';
import type { Outbox } from '@wa/kafka';

const client = new ReplyClient({} as Outbox, 'chatbot');
const target = {
  tenantId: 'roads-agency',
  to: { waId: '573001234567' },
  inboundMessageId: 'wamid.IN1',
  phoneNumberId: '310000000000001',
  quote: true,
};

describe('ReplyClient', () => {
  it('builds one request per message, ids from the inbound and the step, quoting only the first', () => {
    const requests = client.buildReplies(target, [
      { kind: 'text', content: { body: 'Hola' } },
      {
        kind: 'interactive',
        content: {
          type: 'button',
          body: { text: '¿Algo más?' },
          action: { buttons: [{ type: 'reply', reply: { id: 'menu', title: 'Menú' } }] },
        },
      },
    ]);
    expect(requests.map((r) => r.requestId)).toEqual([
      replyRequestId('roads-agency', 'wamid.IN1', 0),
      replyRequestId('roads-agency', 'wamid.IN1', 1),
    ]);
    expect(requests[0]).toMatchObject({
      priority: 'reply',
      requestedBy: 'chatbot',
      replyToMessageId: 'wamid.IN1',
      phoneNumberId: '310000000000001',
    });
    expect(requests[1].replyToMessageId).toBeUndefined();
    expect(client.buildReplies(target, [{ kind: 'text', content: { body: 'x' } }], 5)[0].requestId).toBe(
      replyRequestId('roads-agency', 'wamid.IN1', 5),
    );
  });

  it('refuses content over WhatsApp limits before anything is written', () => {
    expect(() => client.buildReplies(target, [{ kind: 'text', content: { body: 'x'.repeat(4097) } }])).toThrow(ReplyContentError);
    const titles = ['Uno', 'Uno'].map((t, i) => ({ type: 'reply', reply: { id: `o${i}`, title: t } }));
    expect(() =>
      client.buildReplies(target, [{ kind: 'interactive', content: { type: 'button', body: { text: 'b' }, action: { buttons: titles } } }]),
    ).toThrow(/unique/);
  });

  it('builds template notices and tells its own results', () => {
    const notice = client.buildNotice({
      tenantId: 'roads-agency',
      to: { phone: '+573001234567' },
      requestId: '0f6b3c1e-8d2a-5b7c-9e4f-1a2b3c4d5e6f',
      template: { name: 'document_expiring', language: 'es' },
    });
    expect(notice).toMatchObject({ kind: 'template', priority: 'notification', requestedBy: 'chatbot' });
    expect('content' in notice).toBe(false);
    expect(Object.values(notice)).not.toContain(undefined);
    expect(client.isMine({ requestedBy: 'chatbot' })).toBe(true);
    expect(client.isMine({ requestedBy: 'notification-scheduler' })).toBe(false);
  });
});
