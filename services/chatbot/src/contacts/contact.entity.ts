import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'contact' })
export class ChatContact {
  @PrimaryColumn({ name: 'tenant_id', type: 'text' }) tenantId!: string;
  /** The citizen key (`citizenKey` of @wa/contracts). */
  @PrimaryColumn({ name: 'citizen_key', type: 'text' }) citizenKey!: string;
  @Column({ name: 'profile_name', type: 'text', nullable: true }) profileName!: string | null;
  @Column({ name: 'last_message_at', type: 'timestamptz' }) lastMessageAt!: Date;
}
