import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Last inbound message per citizen and business number: the customer service window's clock. */
@Entity({ name: 'contact_window' })
export class ContactWindow {
  @PrimaryColumn({ name: 'tenant_id', type: 'text' }) tenantId!: string;
  /** The citizen key (`citizenKey` of @wa/contracts). */
  @PrimaryColumn({ name: 'citizen_key', type: 'text' }) citizenKey!: string;
  /** '' for rows recorded before windows were tracked per number (they count for any number). */
  @PrimaryColumn({ name: 'phone_number_id', type: 'text' }) phoneNumberId!: string;
  @Column({ name: 'last_inbound_at', type: 'timestamptz' }) lastInboundAt!: Date;
}
