import { backoffMs, classifyCloudApiError, pairBackoffMs } from '../src/cloud-api/error-policy';

describe('Cloud API error policy (reference §7)', () => {
  it.each([
    [130429, { action: 'throughput' }],
    [131056, { action: 'pair' }],
    [131047, { action: 'window' }],
    [131026, { action: 'fail', reason: 'undeliverable' }],
    [131000, { action: 'transient' }],
    [1, { action: 'transient' }],
    [133004, { action: 'transient' }],
    [132000, { action: 'fail', reason: 'template-rejected' }],
    [132001, { action: 'fail', reason: 'template-rejected' }],
    [132015, { action: 'fail', reason: 'template-rejected' }],
    [131049, { action: 'fail', reason: 'declined-by-meta' }],
    [131050, { action: 'fail', reason: 'declined-by-meta' }],
    [131009, { action: 'fail', reason: 'rejected-by-meta' }],
    [100, { action: 'fail', reason: 'rejected-by-meta' }],
    [250, { action: 'fail', reason: 'rejected-by-meta' }],
    [131053, { action: 'fail', reason: 'media-unavailable' }],
  ])('code %i → %o', (code, expected) => {
    expect(classifyCloudApiError(code, 400)).toEqual(expected);
  });

  it('stops sending for the tenant on auth errors (190, 0) and alerts, instead of retrying forever', () => {
    expect(classifyCloudApiError(190, 401)).toEqual({ action: 'hold', scope: 'tenant', reason: 'auth', alert: true });
    expect(classifyCloudApiError(0, 401)).toMatchObject({ action: 'hold', scope: 'tenant', reason: 'auth' });
  });

  it('holds a number for maintenance (131057) and bulk traffic on a spam limit (131048)', () => {
    expect(classifyCloudApiError(131057, 503)).toMatchObject({ action: 'hold', scope: 'phone', holdMs: 60000 });
    expect(classifyCloudApiError(131048, 400)).toMatchObject({ action: 'hold', scope: 'phone', bulkOnly: true, alert: true });
    expect(classifyCloudApiError(131031, 400)).toMatchObject({ action: 'hold', scope: 'tenant', reason: 'account-blocked', alert: true });
  });

  it('decides by code, not HTTP status; without a code, 5xx and 429 are retried and the rest fail', () => {
    expect(classifyCloudApiError(131026, 500)).toEqual({ action: 'fail', reason: 'undeliverable' });
    expect(classifyCloudApiError(undefined, 502)).toEqual({ action: 'transient' });
    expect(classifyCloudApiError(undefined, 429)).toEqual({ action: 'throughput' });
    expect(classifyCloudApiError(undefined, 404)).toEqual({ action: 'fail', reason: 'rejected-by-meta' });
    expect(classifyCloudApiError(999999, 400)).toEqual({ action: 'fail', reason: 'rejected-by-meta' });
    expect(classifyCloudApiError(999999, 503)).toEqual({ action: 'transient' });
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(2000, 0, 300000, () => 0)).toBe(1000);
    expect(backoffMs(2000, 0, 300000, () => 1)).toBe(2000);
    expect(backoffMs(2000, 3, 300000, () => 1)).toBe(16000);
    expect(backoffMs(2000, 20, 300000, () => 1)).toBe(300000);
    const samples = Array.from({ length: 50 }, () => backoffMs(2000, 2, 300000));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(4000);
    expect(Math.max(...samples)).toBeLessThanOrEqual(8000);
    expect(new Set(samples).size).toBeGreaterThan(1);
  });

  it('waits 4^n seconds after a pair-limit error (1, 4, 16, 64 …)', () => {
    expect([0, 1, 2, 3].map((n) => pairBackoffMs(1000, n))).toEqual([1000, 4000, 16000, 64000]);
  });
});
