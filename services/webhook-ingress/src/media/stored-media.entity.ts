import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Our own copy of inbound media: Meta's media ids expire after 7 days and their download URLs after
 * minutes, while agents and the bot may need a file later. Postgres keeps it transactional and
 * shared by every replica without more infrastructure; object storage can replace it behind
 * MediaStore when volumes call for it.
 */
@Entity({ name: 'media' })
export class StoredMedia {
  @PrimaryColumn({ name: 'tenant_id', type: 'text' }) tenantId!: string;
  @PrimaryColumn({ name: 'media_id', type: 'text' }) mediaId!: string;
  @Column({ name: 'mime_type', type: 'text' }) mimeType!: string;
  /** Hex SHA-256 of the stored bytes. */
  @Column({ type: 'text' }) sha256!: string;
  @Column({ name: 'file_size', type: 'bigint' }) fileSize!: string;
  @Column({ type: 'text', nullable: true }) filename!: string | null;
  /** Files stored whole before chunking; newer files are in `ingress.media_chunk` (media-store.ts). */
  @Column({ type: 'bytea', select: false, nullable: true }) content!: Buffer | null;
  @Column({ name: 'fetched_at', type: 'timestamptz', default: () => 'now()' }) fetchedAt!: Date;
}
