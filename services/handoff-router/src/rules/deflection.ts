import type { DeflectionOutcome } from '@wa/contracts';

/** The outcome a gateway result decides for a deflection offer, or null while it is still open. */
export function outcomeOfResult(result: {
  outcome: 'accepted' | 'failed';
  reason?: string;
  error?: { code: number; title?: string };
}): { outcome: DeflectionOutcome; detail: string; errorCode?: number } | null {
  if (result.outcome === 'accepted') return null;
  const code = result.error?.code;
  if (result.reason === 'opted-out') return { outcome: 'opted_out', detail: 'the citizen opted out of messages' };
  if (code === 131026 || result.reason === 'undeliverable' || result.reason === 'unsupported-recipient')
    return { outcome: 'not_reachable', detail: `${code ?? ''} message undeliverable`.trim(), errorCode: code };
  return { outcome: 'failed', detail: `${result.reason ?? 'failed'}${code ? ` (${code})` : ''}`, errorCode: code };
}

/** The outcome a status webhook decides: delivered/read → offered, failed → not reachable. */
export function outcomeOfStatus(status: {
  status: string;
  errors?: { code: number; title?: string }[];
}): { outcome: DeflectionOutcome; detail: string; errorCode?: number } | null {
  if (status.status === 'delivered' || status.status === 'read') return { outcome: 'offered', detail: `message ${status.status}` };
  if (status.status === 'failed') {
    const code = status.errors?.[0]?.code;
    return { outcome: 'not_reachable', detail: `${code ?? ''} ${status.errors?.[0]?.title ?? 'failed'}`.trim(), errorCode: code };
  }
  return null;
}
