import { isWindowOpen, needsWindow, windowClosesAt, windowRemainingMs } from './window';
import { replyRequestId } from './reply';

describe('customer-service window', () => {
  const last = new Date('2026-03-01T10:00:00Z');
  it('is open for 24 hours after the last citizen message', () => {
    expect(isWindowOpen(last, new Date('2026-03-02T09:59:59.999Z'))).toBe(true);
    expect(isWindowOpen(last, new Date('2026-03-02T10:00:00Z'))).toBe(false);
    expect(isWindowOpen(null, last)).toBe(false);
    expect(windowClosesAt(last)?.toISOString()).toBe('2026-03-02T10:00:00.000Z');
    expect(windowRemainingMs(last, new Date('2026-03-02T09:00:00Z'))).toBe(3_600_000);
    expect(windowRemainingMs(undefined)).toBe(0);
    expect(needsWindow('template')).toBe(false);
    expect(needsWindow('interactive')).toBe(true);
  });
});

describe('reply request ids', () => {
  it('are the same for a redelivered inbound and differ by step, message and tenant', () => {
    const id = replyRequestId('roads-agency', 'wamid.A', 0);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(replyRequestId('roads-agency', 'wamid.A', '0')).toBe(id);
    expect(
      new Set([
        id,
        replyRequestId('roads-agency', 'wamid.A', 1),
        replyRequestId('roads-agency', 'wamid.B', 0),
        replyRequestId('immigration', 'wamid.A', 0),
      ]).size,
    ).toBe(4);
  });
});
