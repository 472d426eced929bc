import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'template_catalog' })
export class CatalogEntry {
  @PrimaryColumn({ name: 'tenant_id', type: 'text' }) tenantId!: string;
  @PrimaryColumn({ name: 'name', type: 'text' }) name!: string;
  @PrimaryColumn({ name: 'language', type: 'text' }) language!: string;
  @Column({ name: 'status', type: 'text' }) status!: string;
  @Column({ name: 'version', type: 'int' }) version!: number;
  @Column({ name: 'entry', type: 'jsonb' }) entry!: Record<string, unknown>;
}
