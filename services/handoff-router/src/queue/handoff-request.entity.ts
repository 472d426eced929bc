import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'handoff_request' })
export class HandoffRequest {
  @PrimaryColumn({ name: 'conversation_id', type: 'text' }) conversationId!: string;
  @Column({ name: 'tenant_id', type: 'text' }) tenantId!: string;
  @Column({ name: 'department', type: 'text' }) department!: string;
  @Column({ name: 'language', type: 'text' }) language!: string;
  @Column({ name: 'state', type: 'text' }) state!: string;
  @Column({ name: 'requested_at', type: 'timestamptz' }) requestedAt!: Date;
}
