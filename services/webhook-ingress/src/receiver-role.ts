// Read by tracing.ts before anything else loads, so it imports nothing.

/** INGRESS_CONSUMERS as the env class reads it: on unless set to something other than true/1. */
export function runsConsumers(value: string | boolean | undefined): boolean {
  if (value === undefined) return true;
  return typeof value === 'string' ? value.trim() === 'true' || value.trim() === '1' : value;
}

/**
 * A receiver replica (INGRESS_CONSUMERS=false) runs without AsyncLocalStorage, in tracing and in the
 * request logger. In Node 20 the first AsyncLocalStorage.run() turns on promise hooks for every
 * promise in the process, for good: on a receiver they cost over a quarter of its webhooks per
 * second (bench:ingress, 7,055 against 9,822 req/s). The webhook route carries its trace context
 * explicitly, so its traces stay whole; a receiver's other routes (probes, metrics, the handshake,
 * the media API) lose the per-request HTTP log line and trace only what runs synchronously under
 * their route span. Normalizers, which serve no webhooks, keep both.
 */
export const usesAsyncContext = runsConsumers;
