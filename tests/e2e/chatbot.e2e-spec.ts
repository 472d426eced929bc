import { waitFor } from '@wa/testing';
import { colombianMobile, emiratiMobile, http, messagesTo, type Json } from './support/drive';
import { attachStack, type E2EStack } from './support/stack';

/*
 * A citizen's message → the chatbot's answer at the sandbox, end to end: the sandbox posts the
 * citizen's text to the ingress as Meta would (a signed webhook), the chatbot answers from the
 * tenant's sample flow (services/chatbot/flows, published at start in sandbox mode) through the
 * outbound gateway, and the answer arrives at the sandbox for that citizen, in their language.
 */

jest.setTimeout(120_000);

let stack: E2EStack;

beforeAll(() => {
  stack = attachStack();
});

/** What the citizen's phone shows once the chatbot has answered `count` times. */
async function answersTo(phone: string, count: number): Promise<{ type: string; payload: Json }[]> {
  return waitFor(
    async () => {
      const got = await messagesTo(stack, phone);
      return got.length >= count ? got : undefined;
    },
    { timeoutMs: 60000, intervalMs: 250, what: `${count} answer(s) at the sandbox (logs: ${stack.logDir})` },
  );
}

const textOf = (message: { type: string; payload: Json }): string => {
  const p = message.payload as { text?: { body: string }; interactive?: { body?: { text: string } } };
  return p.text?.body ?? p.interactive?.body?.text ?? '';
};

describe('a citizen writes; the chatbot answers at the sandbox', () => {
  it('"hola" from a Colombian number: the roads agency’s menu, in Spanish', async () => {
    const from = colombianMobile();
    const sent = await http(`${stack.sandboxUrl}/sandbox/inbound/messages`, {
      method: 'POST',
      body: { tenant: 'roads-agency', from, profileName: 'Ana', type: 'text', text: 'hola' },
    });
    expect(sent.status).toBe(200);
    const [answer] = await answersTo(from, 1);
    expect(answer.type).toBe('interactive');
    expect(textOf(answer)).toMatch(/^Bienvenido a la Agencia Nacional de Vías y Tránsito/);
  });

  it('"مرحبا" from an Emirati number: the immigration department answers in Arabic', async () => {
    const from = emiratiMobile();
    const sent = await http(`${stack.sandboxUrl}/sandbox/inbound/messages`, {
      method: 'POST',
      body: { tenant: 'immigration-dept', from, profileName: 'Fatima', type: 'text', text: 'مرحبا' },
    });
    expect(sent.status).toBe(200);
    const [answer] = await answersTo(from, 1);
    expect(answer.type).toBe('interactive');
    expect(textOf(answer)).toMatch(/^مرحباً بكم في إدارة الهجرة والإقامة/);
  });
});
