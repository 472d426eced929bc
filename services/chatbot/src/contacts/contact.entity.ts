import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'contact' })
export class ChatContact {
  @PrimaryColumn({ name: 'tenant_id', type: 'text' }) tenantId!: string;
  @PrimaryColumn({ name: 'wa_id', type: 'text' }) waId!: string;
  @Column({ name: 'profile_name', type: 'text', nullable: true }) profileName!: string | null;
  @Column({ name: 'last_message_at', type: 'timestamptz' }) lastMessageAt!: Date;
}
