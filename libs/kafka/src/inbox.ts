import { Column, Entity, PrimaryColumn, type DataSource, type EntityManager } from 'typeorm';

/** Ids of the records a consumer has already applied; in each service's own schema. */
@Entity({ name: 'inbox' })
export class InboxRecord {
  @PrimaryColumn({ type: 'text' }) consumer!: string;
  @PrimaryColumn({ name: 'message_id', type: 'text' }) messageId!: string;
  @Column({ name: 'processed_at', type: 'timestamptz', default: () => 'now()' }) processedAt!: Date;
}

/**
 * Applies `effect` at most once per (consumer, messageId): the inbox row and the effect commit in
 * one transaction, so a redelivered record (at-least-once Kafka, an outbox replay) changes nothing.
 * Returns false when the record had already been applied.
 */
export async function processOnce(
  dataSource: DataSource,
  consumer: string,
  messageId: string,
  effect: (manager: EntityManager) => Promise<void>,
): Promise<boolean> {
  return dataSource.transaction(async (manager) => {
    const table = manager.connection.getMetadata(InboxRecord).tablePath;
    const inserted: unknown[] = await manager.query(
      `INSERT INTO ${table} (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
      [consumer, messageId],
    );
    if (inserted.length === 0) return false;
    await effect(manager);
    return true;
  });
}
