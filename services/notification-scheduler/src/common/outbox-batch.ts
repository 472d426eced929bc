import type { TopicSpec } from '@wa/contracts';
import { Outbox } from '@wa/kafka';

export interface OutboxItem<T extends object & { tenantId: string }> {
  spec: TopicSpec<T>;
  data: T;
  /** ce_id: deterministic ids make a repeated write fail on the outbox's unique eventId. */
  id: string;
}

export const OUTBOX_SOURCE = '/services/notification-scheduler';

/**
 * The scheduler's outbox for the free functions of planning, dispatch and outcomes (the same
 * table and relay as the platform's injected Outbox). A sweep writes hundreds of events with one
 * `addMany` statement.
 */
export const schedulerOutbox = new Outbox(OUTBOX_SOURCE);
