import {
  baseLanguage,
  byLanguage,
  duration,
  inLanguage,
  maskPhone,
  metaErrorText,
  SseParser,
  step,
  windowState,
} from '../console/src/format';

describe('console helpers', () => {
  it('says waiting times shortly', () => {
    expect(duration(0)).toBe('0 s');
    expect(duration(59.9)).toBe('59 s');
    expect(duration(60)).toBe('1 min');
    expect(duration(3599)).toBe('59 min');
    expect(duration(3900)).toBe('1 h 05 min');
    expect(duration(2 * 86400 + 3 * 3600)).toBe('2 d 3 h');
    expect(duration(-5)).toBe('0 s');
  });

  it('knows the 24-hour window from the time it closes', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(windowState('2026-01-01T15:30:00Z', now)).toMatchObject({ open: true, label: 'Window open for 3 h 30 min more' });
    expect(windowState('2026-01-01T12:00:00Z', now).open).toBe(false);
    expect(windowState(null, now)).toMatchObject({ open: false, label: expect.stringContaining('only an approved template') });
    expect(windowState('not a date', now).open).toBe(false);
  });

  it('shows the router’s words for a delivery error, with the code', () => {
    expect(metaErrorText({ code: 131047, message: 'Not delivered: more than 24 hours passed.' })).toBe(
      'Not delivered: more than 24 hours passed. (131047)',
    );
    expect(metaErrorText({ code: 131026, message: 'Re-engagement required (131026)' })).toBe('Re-engagement required (131026)');
    expect(metaErrorText({ code: '131026' })).toBe('Not delivered: WhatsApp did not accept the message. (131026)');
    expect(metaErrorText({ message: 'gateway gave up' })).toBe('gateway gave up');
    expect(metaErrorText(undefined)).toBe('');
  });

  it('offers the citizen’s language first, and only theirs when the window is closed', () => {
    const items = [
      { id: 'en', language: 'en' },
      { id: 'pt', language: 'pt_BR' },
      { id: 'ar', language: 'ar' },
      { id: 'es', language: 'es' },
    ];
    expect(byLanguage(items, 'ar').map((i) => i.id)).toEqual(['ar', 'en', 'pt', 'es']);
    expect(byLanguage(items, 'pt').map((i) => i.id)[0]).toBe('pt');
    expect(inLanguage(items, 'ar').map((i) => i.id)).toEqual(['ar']);
    expect(inLanguage(items, 'pt').map((i) => i.id)).toEqual(['pt']);
    expect(inLanguage(items, 'fr')).toEqual([]);
    expect(baseLanguage('pt_BR')).toBe('pt');
  });

  it('masks the middle of a number', () => {
    expect(maskPhone('+57 300 123 4567')).toBe('+57300 ••• 4567');
    expect(maskPhone('971501234567')).toBe('+97150 ••• 4567');
    expect(maskPhone('123')).toBe('123');
  });

  it('moves through a list with j/k without leaving it', () => {
    expect(step(-1, 1, 3)).toBe(0);
    expect(step(-1, -1, 3)).toBe(2);
    expect(step(2, 1, 3)).toBe(2);
    expect(step(0, -1, 3)).toBe(0);
    expect(step(0, 1, 0)).toBe(-1);
  });

  it('parses server-sent events split anywhere across chunks', () => {
    const parser = new SseParser();
    const text = ': keepalive\n\nid: 7\nevent: conversation\ndata: {"id":"c1"}\n\nretry: 2000\ndata: a\ndata: b\r\n\r\n';
    const events = [];
    for (let i = 0; i < text.length; i += 5) events.push(...parser.push(text.slice(i, i + 5)));
    expect(events).toEqual([
      { id: '7', event: 'conversation', data: '{"id":"c1"}' },
      { event: 'message', data: 'a\nb', retry: 2000 },
    ]);
  });
});
