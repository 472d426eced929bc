import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TenantRegistry } from '@wa/tenancy';
import { metaJson } from '../webhook-sender';
import { buildEnvelope, buildMessage, SpecError, type MediaRegistrar } from './message-builder';

const registry = TenantRegistry.parse(readFileSync(join(__dirname, '..', '..', '..', 'config', 'tenants.sandbox.yaml'), 'utf8'), {});
const media: MediaRegistrar = {
  register: (_tenant, _phone, _type, spec) => ({
    mediaId: '800000000000001',
    mimeType: spec.mimeType!,
    sha256: 'c2hh',
    url: 'http://sandbox/x',
  }),
};
const citizen = { tenant: 'roads-agency', from: '+57 300 123 4567', profileName: 'Ana' };

describe('sandbox message builder', () => {
  it('builds Meta’s message and contact shapes', () => {
    const built = buildMessage(registry, { ...citizen, type: 'text', text: 'hola', id: 'wamid.T', timestamp: 1767225600 }, media);
    expect(built.message).toEqual({ from: '573001234567', id: 'wamid.T', timestamp: '1767225600', type: 'text', text: { body: 'hola' } });
    expect(built.contact).toEqual({ profile: { name: 'Ana' }, wa_id: '573001234567' });
    expect(built.phone.id).toBe('310000000000001');
  });

  it('media carries the registered id, url only when asked; audio has no caption', () => {
    const image = buildMessage(registry, { ...citizen, type: 'image', media: { caption: 'c', includeUrl: true } }, media);
    expect(image.message.image).toEqual({
      id: '800000000000001',
      mime_type: 'image/jpeg',
      sha256: 'c2hh',
      caption: 'c',
      url: 'http://sandbox/x',
    });
    const audio = buildMessage(registry, { ...citizen, type: 'audio', media: { caption: 'ignored', voice: true } }, media);
    expect(audio.message.audio).toEqual({ id: '800000000000001', mime_type: 'audio/ogg; codecs=opus', sha256: 'c2hh', voice: true });
  });

  it('interactive replies, flows (response_json is a JSON string), reactions, system, unsupported', () => {
    const flow = buildMessage(
      registry,
      { ...citizen, type: 'interactive', interactive: { kind: 'nfm_reply', response: { flow_token: 't' } } },
      media,
    );
    expect(flow.message.interactive).toEqual({
      type: 'nfm_reply',
      nfm_reply: { name: 'flow', body: 'Sent', response_json: '{"flow_token":"t"}' },
    });
    const removed = buildMessage(registry, { ...citizen, type: 'reaction', reaction: { messageId: 'wamid.X' } }, media);
    expect(removed.message.reaction).toEqual({ message_id: 'wamid.X' });
    const system = buildMessage(registry, { ...citizen, type: 'system', system: { newWaId: '+573009998877' } }, media);
    expect(system.contact).toBeUndefined();
    expect(system.message.system).toMatchObject({ wa_id: '573009998877', type: 'user_changed_number' });
    const unsupported = buildMessage(registry, { ...citizen, type: 'unsupported' }, media);
    expect(unsupported.message).toMatchObject({ unsupported: { type: 'poll_update' }, errors: [{ code: 131051 }] });
  });

  it('button and list replies carry the context of the message they answer (from = the business number)', () => {
    const given = buildMessage(
      registry,
      { ...citizen, type: 'interactive', interactive: { kind: 'button_reply', id: 'yes', title: 'Sí' }, context: { messageId: 'wamid.Q' } },
      media,
    );
    expect(given.message).toMatchObject({
      id: expect.stringMatching(/^wamid\./),
      context: { from: '5716010100', id: 'wamid.Q' },
      interactive: { type: 'button_reply', button_reply: { id: 'yes', title: 'Sí' } },
    });
    const asked: string[] = [];
    const lastSent = (phone: string, waId: string, kind: string) => {
      asked.push(`${phone} ${waId} ${kind}`);
      return kind === 'list' ? 'wamid.LIST' : kind === 'template' ? 'wamid.TPL' : undefined;
    };
    const list = buildMessage(
      registry,
      { ...citizen, type: 'interactive', interactive: { kind: 'list_reply', id: 'svc' } },
      media,
      lastSent,
    );
    expect(list.message.context).toEqual({ from: '5716010100', id: 'wamid.LIST' });
    const button = buildMessage(registry, { ...citizen, type: 'button', button: { text: 'Luego' } }, media, lastSent);
    expect(button.message.context).toEqual({ from: '5716010100', id: 'wamid.TPL' });
    expect(asked).toEqual(['310000000000001 573001234567 list', '310000000000001 573001234567 template']);
    expect(() =>
      buildMessage(registry, { ...citizen, type: 'interactive', interactive: { kind: 'button_reply', id: 'yes' } }, media, lastSent),
    ).toThrow(/button_reply answers a message: give context.messageId .*sent no interactive button message to 573001234567/);
    expect(() =>
      buildMessage(registry, { ...citizen, type: 'button', button: { text: 'Luego' }, context: { messageId: '42' } }, media),
    ).toThrow(/context.messageId must be the wamid/);
    // Flows and plain messages answer nothing unless told.
    expect(buildMessage(registry, { ...citizen, type: 'text', text: 'x' }, media, lastSent).message.context).toBeUndefined();
  });

  it('a username user has an empty wa_id and a user id', () => {
    const built = buildMessage(registry, { tenant: 'roads-agency', from: '', userId: 'CO.u1', type: 'text', text: 'x' }, media);
    expect(built.message).toMatchObject({ from: '', from_user_id: 'CO.u1' });
    expect(built.contact).toEqual({ profile: { name: 'Sandbox Citizen' }, wa_id: '', user_id: 'CO.u1' });
  });

  it('refuses incomplete or misrouted specs with a clear message', () => {
    expect(() => buildMessage(registry, { ...citizen, type: 'text' }, media)).toThrow(new SpecError('type text needs "text"'));
    expect(() => buildMessage(registry, { ...citizen, tenant: 'nobody', type: 'text', text: 'x' }, media)).toThrow('no tenant nobody');
    expect(() =>
      buildMessage(registry, { tenant: 'roads-agency', phoneNumberId: '310000000000002', from: '1', type: 'text', text: 'x' }, media),
    ).toThrow("310000000000002 is not roads-agency's number");
    expect(() => buildMessage(registry, { tenant: 'roads-agency', type: 'text', text: 'x' }, media)).toThrow(/from .* or userId/);
  });

  it('envelopes: grouped per WABA and number, or a change / an entry per message; one app per POST', () => {
    const a = buildMessage(
      registry,
      { tenant: 'immigration-dept', phoneNumberId: '310000000000002', from: '971501234567', type: 'text', text: 'a' },
      media,
    );
    const b = buildMessage(
      registry,
      { tenant: 'immigration-dept', phoneNumberId: '310000000000003', from: '971501234567', type: 'text', text: 'b' },
      media,
    );
    const c = buildMessage(
      registry,
      { tenant: 'immigration-dept', phoneNumberId: '310000000000002', from: '971509999999', type: 'text', text: 'c' },
      media,
    );
    const shape = (layout?: 'single-change' | 'change-per-message' | 'entry-per-message') => {
      const { appId, payload } = buildEnvelope([a, b, c], layout);
      expect(appId).toBe('immigration-app');
      const entries = (payload as { entry: { id: string; changes: { value: { messages: { text: { body: string } }[] } }[] }[] }).entry;
      return entries.map((e) => e.changes.map((ch) => ch.value.messages.map((m) => m.text.body).join('')));
    };
    expect(shape()).toEqual([['ac', 'b']]);
    expect(shape('change-per-message')).toEqual([['a', 'b', 'c']]);
    expect(shape('entry-per-message')).toEqual([['a'], ['b'], ['c']]);
    const roads = buildMessage(registry, { ...citizen, type: 'text', text: 'x' }, media);
    expect(() => buildEnvelope([a, roads])).toThrow('one webhook carries messages of one app only');
  });

  it('is sent as Meta sends it: non-ASCII as lowercase \\u escapes', () => {
    const built = buildMessage(registry, { ...citizen, type: 'text', text: 'شكراً 👍 café' }, media);
    const body = metaJson(buildEnvelope([built]).payload);
    expect(body).toContain('\\u0634\\u0643\\u0631\\u0627\\u064b \\ud83d\\udc4d caf\\u00e9');
    expect(JSON.parse(body).entry[0].changes[0].value.messages[0].text.body).toBe('شكراً 👍 café');
  });
});
