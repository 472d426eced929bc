import { colombianMobile, digits, http, type Json } from './support/drive';
import { startStack, type E2EStack } from './support/stack';

/*
 * A citizen's message → the chatbot's answer at the sandbox, end to end: the sandbox posts the
 * citizen's text to the ingress as Meta would, the chatbot answers through the outbound gateway,
 * and the answer arrives at the sandbox for that citizen.
 *
 * SKIPPED until the chatbot answers: services/chatbot has its flow model (flows/flow.types.ts) and
 * its contacts consumer, but no engine consuming wa.inbound.message.v1 that replies yet. When it
 * does, replace `describe.skip` with `describe`, and check the expected answer against the sample
 * flow's greeting.
 */

jest.setTimeout(120_000);

describe.skip('a citizen writes; the chatbot answers (waiting for the chatbot engine)', () => {
  let stack: E2EStack;

  beforeAll(async () => {
    stack = await startStack('chatbot', ['webhook-ingress', 'outbound-gateway', 'template-registry', 'chatbot', 'handoff-router']);
  }, 240000);

  afterAll(async () => {
    await stack?.stop();
  }, 60000);

  it('answers "hola" with the tenant’s menu, in Spanish, at the sandbox', async () => {
    const from = colombianMobile();
    const sent = await http(`${stack.sandboxUrl}/sandbox/inbound/messages`, {
      method: 'POST',
      body: { tenant: 'roads-agency', from, profileName: 'Ana', type: 'text', text: 'hola' },
    });
    expect(sent.status).toBe(200);
    const deadline = Date.now() + 60000;
    let answers: { type: string; payload: Json }[] = [];
    while (Date.now() < deadline && answers.length === 0) {
      answers = ((await http(`${stack.sandboxUrl}/sandbox/messages?to=${digits(from)}`)).body.messages ?? []) as typeof answers;
      if (answers.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(answers.length).toBeGreaterThan(0);
    expect(answers[0].type).toMatch(/^(text|interactive)$/);
  });
});
