import type { AccountEventV1, InboundMessageV1 } from '@wa/contracts';
import { userPreferenceConsent } from './account-events.consumer';
import { appendTranscript, botLine, citizenLine, classify, replyContact } from './inbound-input';
import { durationMs } from './turn.service';

const base = (over: Partial<InboundMessageV1>): InboundMessageV1 =>
  ({
    tenantId: 'roads-agency',
    phoneNumberId: '310000000000001',
    messageId: 'wamid.1',
    contact: { waId: '573001234567' },
    sentAt: '2026-03-01T10:00:00Z',
    receivedAt: '2026-03-01T10:00:01Z',
    type: 'text',
    ...over,
  }) as InboundMessageV1;

describe('what a citizen message means to the chatbot', () => {
  it('maps every kind to a turn input, or to nothing for reactions and system notices', () => {
    expect(classify(base({ text: ' 2 ' }))).toEqual({ kind: 'input', input: { kind: 'text', text: ' 2 ' }, text: ' 2 ' });
    expect(classify(base({ text: '   ' }))).toMatchObject({ kind: 'ignore' });
    expect(classify(base({ type: 'interactive', interactive: { kind: 'list_reply', id: 'hours', title: 'Horarios' } }))).toEqual({
      kind: 'input',
      input: { kind: 'reply', id: 'hours', title: 'Horarios' },
      text: 'Horarios',
    });
    expect(classify(base({ type: 'interactive', interactive: { kind: 'nfm_reply', name: 'flow' } })).kind).toBe('input');
    expect(classify(base({ type: 'button', button: { text: 'Cómo renovar', payload: 'RENEW' } }))).toMatchObject({
      input: { kind: 'template_button', payload: 'RENEW', text: 'Cómo renovar' },
    });
    expect(classify(base({ type: 'location', location: { latitude: 4.6, longitude: -74.1 } }))).toMatchObject({
      input: { kind: 'location', latitude: 4.6, longitude: -74.1 },
    });
    expect(classify(base({ type: 'image', media: { mediaId: 'M1', caption: 'bache' } }))).toMatchObject({
      input: { kind: 'media', mediaType: 'image', mediaId: 'M1', caption: 'bache' },
      text: 'bache',
    });
    expect(classify(base({ type: 'sticker', media: { mediaId: 'S1' } }))).toMatchObject({ input: { kind: 'media', mediaType: 'sticker' } });
    expect(classify(base({ type: 'reaction', reaction: { messageId: 'wamid.x', emoji: '👍' } }))).toEqual({
      kind: 'ignore',
      why: 'reaction',
    });
    expect(classify(base({ type: 'system', system: { type: 'user_changed_number' } }))).toEqual({
      kind: 'ignore',
      why: 'system:user_changed_number',
    });
    for (const type of ['unsupported', 'unknown', 'contacts', 'order'] as const) {
      expect(classify(base({ type }))).toEqual({ kind: 'input', input: { kind: 'unsupported', type } });
    }
  });

  it('answers the id Meta knows the citizen by, and keeps transcripts short and readable', () => {
    expect(replyContact({ waId: '573001234567', phone: '+573001234567', profileName: 'Ana' })).toEqual({ waId: '573001234567' });
    expect(replyContact({ bsuid: 'CO.abc' })).toEqual({ bsuid: 'CO.abc' });
    expect(citizenLine(base({ type: 'location', location: { latitude: 1, longitude: 2, name: 'Calle 26' } })).text).toBe(
      '[location 1,2 Calle 26]',
    );
    expect(botLine({ kind: 'interactive', content: { type: 'list', body: { text: 'Menú' } } }, 'T').text).toBe('Menú');
    const lines = Array.from({ length: 25 }, (_, i) => ({ author: 'bot', text: String(i), at: 'T' }));
    expect(appendTranscript(lines.slice(0, 15), lines.slice(15)).map((l) => l.text)).toEqual(lines.slice(5).map((l) => l.text));
    expect(durationMs('30m')).toBe(1_800_000);
    expect(durationMs('23h')).toBe(82_800_000);
  });

  it("turns Meta's marketing stop/resume into marketing consent, and nothing else", () => {
    const event = (details: Record<string, unknown>): AccountEventV1 =>
      ({
        tenantId: 'roads-agency',
        wabaId: '1',
        field: 'user_preferences',
        kind: 'user_preference',
        occurredAt: '2026-03-01T10:00:00Z',
        details,
      }) as AccountEventV1;
    expect(userPreferenceConsent(event({ wa_id: '573001234567', category: 'marketing_messages', value: 'stop' }))).toEqual({
      tenantId: 'roads-agency',
      contact: { waId: '573001234567' },
      category: 'marketing',
      state: 'opted_out',
      channel: 'meta-user-preferences',
      occurredAt: '2026-03-01T10:00:00Z',
      evidence: { source: 'meta_user_preferences', keyword: 'stop', at: '2026-03-01T10:00:00Z' },
    });
    expect(userPreferenceConsent(event({ wa_id: '573001234567', category: 'marketing_messages', value: 'resume' }))?.state).toBe(
      'opted_in',
    );
    expect(userPreferenceConsent(event({ wa_id: '573001234567', category: 'marketing_messages', value: 'maybe' }))).toBeUndefined();
    expect(userPreferenceConsent(event({ category: 'marketing_messages', value: 'stop' }))).toBeUndefined();
  });
});
