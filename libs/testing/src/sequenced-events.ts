import type { CitizenConsentV1 } from '@wa/contracts';

/**
 * A small valid event whose place in a sequence can be read back (`channel` = `seq-<n>`): the
 * Kafka plumbing tests publish many of them and check order, loss and duplicates.
 */
export function sequencedConsent(
  tenantId: string,
  waId: string,
  seq: number,
  state: CitizenConsentV1['state'] = 'opted_in',
): CitizenConsentV1 {
  return {
    tenantId,
    contact: { waId },
    category: 'utility',
    state,
    channel: `seq-${seq}`,
    occurredAt: new Date().toISOString(),
  } as CitizenConsentV1;
}

/** The sequence number `sequencedConsent` put into an event. */
export function sequenceOf(data: unknown): number {
  return Number((data as CitizenConsentV1).channel.slice(4));
}
