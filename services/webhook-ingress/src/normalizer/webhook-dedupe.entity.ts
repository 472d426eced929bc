import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One row per downstream event ever emitted: the unique key is what makes "one event per wamid,
 * and per (wamid, status)" hold across redeliveries, restarts and replicas. Written in the same
 * transaction as the event's outbox row, so a row exists exactly when the event will be published.
 */
@Entity({ name: 'webhook_dedupe' })
export class WebhookDedupe {
  @PrimaryColumn({ name: 'tenant_id', type: 'text' }) tenantId!: string;
  /** message | status | account | quarantine */
  @PrimaryColumn({ type: 'text' }) kind!: string;
  /** wamid, `wamid:status`, or a content hash for account events and quarantined parts. */
  @PrimaryColumn({ name: 'dedupe_key', type: 'text' }) dedupeKey!: string;
  /** ce_id of the event emitted for this key. */
  @Column({ name: 'event_id', type: 'uuid' }) eventId!: string;
  /** ce_id of the raw record that first carried it. */
  @Column({ name: 'raw_event_id', type: 'uuid' }) rawEventId!: string;
  @Column({ name: 'first_seen_at', type: 'timestamptz', default: () => 'now()' }) firstSeenAt!: Date;
}
