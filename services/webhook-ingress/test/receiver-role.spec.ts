import { runsConsumers } from '../src/receiver-role';

describe('INGRESS_CONSUMERS (receiver role)', () => {
  it('is on unless set to something other than true or 1', () => {
    expect(runsConsumers(undefined)).toBe(true);
    expect(runsConsumers('true')).toBe(true);
    expect(runsConsumers(' 1 ')).toBe(true);
    expect(runsConsumers(true)).toBe(true);
    expect(runsConsumers('false')).toBe(false);
    expect(runsConsumers('0')).toBe(false);
    expect(runsConsumers('')).toBe(false);
    expect(runsConsumers(false)).toBe(false);
  });
});
