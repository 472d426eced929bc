import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'template_event' })
export class TemplateEvent {
  @PrimaryColumn({ name: 'event_id', type: 'text' }) eventId!: string;
  @Column({ name: 'tenant_id', type: 'text' }) tenantId!: string;
  @Column({ name: 'template_name', type: 'text', nullable: true }) templateName!: string | null;
  @Column({ name: 'language', type: 'text', nullable: true }) language!: string | null;
  @Column({ name: 'kind', type: 'text' }) kind!: string;
  @Column({ name: 'event', type: 'text', nullable: true }) event!: string | null;
  @Column({ name: 'reason', type: 'text', nullable: true }) reason!: string | null;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
}
