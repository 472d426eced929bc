import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Audit and replay copy of every signed webhook body (Meta offers no way to re-fetch them). */
@Entity({ name: 'raw_webhook' })
export class RawWebhook {
  /** The ce_id of the raw record: a redelivered record maps to the same row. */
  @PrimaryColumn({ name: 'event_id', type: 'uuid' }) eventId!: string;
  @Column({ name: 'tenant_id', type: 'text' }) tenantId!: string;
  @Column({ name: 'app_id', type: 'text' }) appId!: string;
  @Column({ name: 'received_at', type: 'timestamptz' }) receivedAt!: Date;
  @Column({ type: 'text' }) body!: string;
}
