import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'contact_window' })
export class ContactWindow {
  @PrimaryColumn({ name: 'tenant_id', type: 'text' }) tenantId!: string;
  @PrimaryColumn({ name: 'wa_id', type: 'text' }) waId!: string;
  @Column({ name: 'last_inbound_at', type: 'timestamptz' }) lastInboundAt!: Date;
}
