import { ThroughputBackoff } from '../src/dispatch/throughput-backoff';

describe('ThroughputBackoff (the reaction to 130429)', () => {
  it('uses the whole budget until Meta refuses', () => {
    expect(new ThroughputBackoff().at(0)).toBe(1);
  });

  it('takes one small step for a burst of refusals from one stall, and recovers after the hold', () => {
    const backoff = new ThroughputBackoff();
    for (let t = 1000; t < 1200; t += 10) backoff.refused(t);
    expect(backoff.at(1200)).toBeCloseTo(0.95);
    expect(backoff.at(3100)).toBeCloseTo(0.95); // 2 s after the last refusal of the burst
    expect(backoff.at(3200)).toBe(1);
  });

  it('keeps stepping down while refusals keep coming, to half at most', () => {
    const backoff = new ThroughputBackoff();
    for (let t = 0; t <= 20000; t += 500) backoff.refused(t);
    expect(backoff.at(20000)).toBe(0.5);
    backoff.refused(20600);
    expect(backoff.at(20600)).toBe(0.5);
    expect(backoff.at(22600)).toBe(1);
  });

  it('steps from where it is, not from the full budget, when refused again during a hold', () => {
    const backoff = new ThroughputBackoff();
    backoff.refused(0);
    backoff.refused(600);
    backoff.refused(1200);
    expect(backoff.at(1300)).toBeCloseTo(0.85);
  });
});
