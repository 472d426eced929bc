import type { OutboundFailureReason } from '@wa/contracts';

/**
 * What to do about a Cloud API error, decided by `error.code` (never by HTTP status or title), per
 * the error table in the Cloud API reference §7. The same table serves HTTP responses and the
 * errors of `failed` status webhooks.
 */
export type ErrorAction =
  /** Network hiccup or Meta-side trouble: back off exponentially with jitter, bounded tries. */
  | { action: 'transient' }
  /** 130429: this number is over its throughput: slow the number down and retry later. */
  | { action: 'throughput' }
  /** 131056: too many messages to this citizen: wait 4^n s for this citizen only. */
  | { action: 'pair' }
  /** 131047: the window is closed at Meta: the fallback template, else fail. */
  | { action: 'window' }
  /** Stop sending for a tenant or a number for a while (or until a token rotation); the message waits. */
  | { action: 'hold'; scope: 'tenant' | 'phone'; reason: string; holdMs?: number; bulkOnly?: boolean; alert: boolean }
  /** Permanent for this message. */
  | { action: 'fail'; reason: OutboundFailureReason };

const TRANSIENT = new Set([1, 2, 131000, 131016, 133004]);
const TEMPLATE = new Set([132000, 132001, 132005, 132007, 132012, 132015, 132016, 132018]);
const DECLINED = new Set([131049, 131050, 130472]);
const OUR_BUG = new Set([100, 131008, 131009, 131021, 131037, 131051, 131052, 130403, 131063, 2388019, 132068, 132069, 3, 10]);
const REGISTRATION = new Set([131045, 133010, 133005, 133006, 133008, 133009, 133015, 133016]);

export function classifyCloudApiError(code: number | undefined, httpStatus?: number): ErrorAction {
  if (code === undefined) {
    // No Meta error body: a proxy or the network answered. 5xx/429 are worth another try.
    if (httpStatus === 429) return { action: 'throughput' };
    return httpStatus !== undefined && httpStatus >= 500 ? { action: 'transient' } : { action: 'fail', reason: 'rejected-by-meta' };
  }
  if (TRANSIENT.has(code)) return { action: 'transient' };
  if (code === 130429) return { action: 'throughput' };
  if (code === 131056) return { action: 'pair' };
  if (code === 131047) return { action: 'window' };
  if (code === 131026) return { action: 'fail', reason: 'undeliverable' };
  if (DECLINED.has(code)) return { action: 'fail', reason: 'declined-by-meta' };
  if (TEMPLATE.has(code)) return { action: 'fail', reason: 'template-rejected' };
  if (code === 131053) return { action: 'fail', reason: 'media-unavailable' };
  if (code === 130497) return { action: 'fail', reason: 'account-blocked' }; // country restriction: this citizen only
  if (OUR_BUG.has(code) || (code >= 200 && code <= 299)) return { action: 'fail', reason: 'rejected-by-meta' };
  if (code === 0 || code === 190) return { action: 'hold', scope: 'tenant', reason: 'auth', alert: true };
  if (code === 131031 || code === 368) return { action: 'hold', scope: 'tenant', reason: 'account-blocked', alert: true, holdMs: 3600000 };
  if (code === 131042) return { action: 'hold', scope: 'tenant', reason: 'billing', alert: true, holdMs: 3600000 };
  if (code === 4 || code === 80007) return { action: 'hold', scope: 'tenant', reason: 'app-rate-limit', alert: false, holdMs: 120000 };
  if (code === 131057) return { action: 'hold', scope: 'phone', reason: 'maintenance', alert: false, holdMs: 60000 };
  if (code === 131048) return { action: 'hold', scope: 'phone', reason: 'spam-rate-limit', alert: true, holdMs: 900000, bulkOnly: true };
  if (code === 131064)
    return { action: 'hold', scope: 'tenant', reason: 'misclassification-limit', alert: true, holdMs: 3600000, bulkOnly: true };
  if (REGISTRATION.has(code)) return { action: 'hold', scope: 'phone', reason: 'registration', alert: true, holdMs: 3600000 };
  // Unknown code: a server-side one may pass; anything else would fail the same way again.
  return httpStatus !== undefined && httpStatus >= 500 ? { action: 'transient' } : { action: 'fail', reason: 'rejected-by-meta' };
}

/** Exponential backoff with full jitter in [base·2^n / 2, base·2^n], capped. */
export function backoffMs(base: number, attempt: number, max: number, random = Math.random): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Meta's advice for 131056: 1, 4, 16, 64 … seconds. */
export function pairBackoffMs(unitMs: number, retry: number): number {
  return unitMs * 4 ** Math.max(0, retry);
}
