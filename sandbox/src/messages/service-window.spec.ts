import { CUSTOMER_SERVICE_WINDOW_MS as WINDOW_MS } from '@wa/conversation';
import { ServiceWindows } from './service-window';

describe('customer-service windows (Meta’s side)', () => {
  const PHONE = '310000000000001';
  const t0 = Date.parse('2026-12-01T10:00:00Z');

  it('is open for 24 hours from the citizen’s last message to that number, and a later message extends it', () => {
    const windows = new ServiceWindows();
    windows.open(PHONE, '573001234567', t0);
    expect(windows.isOpen(PHONE, '573001234567', t0 + WINDOW_MS - 1)).toBe(true);
    expect(windows.isOpen(PHONE, '573001234567', t0 + WINDOW_MS)).toBe(false);
    expect(windows.isOpen('310000000000002', '573001234567', t0 + 1)).toBe(false);
    windows.open(PHONE, '573001234567', t0 + 3600_000);
    windows.open(PHONE, '573001234567', t0); // an older message (a late injection) does not shorten it
    expect(windows.isOpen(PHONE, '573001234567', t0 + WINDOW_MS + 1000)).toBe(true);
  });

  it('meets the citizen under either spelling of a Mexican or Brazilian number, and by user id', () => {
    const windows = new ServiceWindows();
    windows.open(PHONE, '5215512345678', t0);
    windows.open(PHONE, '551188887777', t0);
    windows.open(PHONE, 'bsuid:CO.u1', t0);
    expect(windows.isOpen(PHONE, '+52 55 1234 5678', t0 + 1)).toBe(true);
    expect(windows.isOpen(PHONE, '5511988887777', t0 + 1)).toBe(true);
    expect(windows.isOpen(PHONE, 'bsuid:CO.u1', t0 + 1)).toBe(true);
  });

  it('keeps only open windows in the state file and reads them back', () => {
    const windows = new ServiceWindows();
    let changes = 0;
    windows.onChange = () => changes++;
    windows.open(PHONE, '573001234567', t0);
    windows.open(PHONE, '573009999999', t0 - WINDOW_MS - 1);
    expect(changes).toBe(2);
    const dumped = windows.dump(t0 + 1000);
    expect(dumped).toEqual([[`${PHONE}:573001234567`, t0]]);
    const again = new ServiceWindows();
    again.restore(JSON.parse(JSON.stringify(dumped)));
    expect(again.isOpen(PHONE, '573001234567', t0 + 1000)).toBe(true);
    expect(() => again.restore({ not: 'a list' })).toThrow(/pairs/);
  });
});
