import { HttpStatus } from '@nestjs/common';
import { counter } from '@wa/observability';
import { DomainError } from '@wa/service-kit';

const refused = counter('media_transfers_refused_total', 'Media downloads or reads refused because the tenant had too many in flight', [
  'tenant',
]);

/**
 * At most `limit` media transfers in flight per tenant on this replica: each one holds a database
 * connection and a chunk of memory for as long as the file takes, so one tenant's burst must not
 * take every connection from the others. Beyond the limit the request is refused at once (429
 * with `retryAfterSeconds`) rather than queued behind transfers that may take minutes.
 */
export class TransferGate {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Takes a slot for the tenant or throws 429; call the returned function exactly once to give it back. */
  enter(tenantId: string): () => void {
    const current = this.inFlight.get(tenantId) ?? 0;
    if (current >= this.limit) {
      refused.inc({ tenant: tenantId });
      throw new DomainError(
        'media_busy',
        `This tenant already has ${this.limit} media transfers in progress; retry shortly`,
        HttpStatus.TOO_MANY_REQUESTS,
        { limit: this.limit, retryAfterSeconds: 2 },
      );
    }
    this.inFlight.set(tenantId, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(tenantId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(tenantId, left);
      else this.inFlight.delete(tenantId);
    };
  }

  active(tenantId: string): number {
    return this.inFlight.get(tenantId) ?? 0;
  }
}
