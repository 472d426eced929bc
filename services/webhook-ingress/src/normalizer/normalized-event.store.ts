import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Topics, type TopicSpec } from '@wa/contracts';
import { Outbox } from '@wa/kafka';
import { deterministicUuid } from './deterministic-id';
import type { NormalizedItem } from './normalize';
import { WebhookDedupe } from './webhook-dedupe.entity';

export interface StoreResult {
  emitted: NormalizedItem[];
  duplicates: NormalizedItem[];
}

const keyOf = (tenantId: string, kind: string, key: string) => `${tenantId}\u0000${kind}\u0000${key}`;

/**
 * Claims each item's dedupe key and writes the outbox row of the claimed ones, in one transaction:
 * either both commit or neither, so an event is published once per key however many times (and on
 * however many replicas) its webhook is processed. Concurrent claims of one key serialize on the
 * primary key; keys are inserted in sorted order so two batches cannot deadlock on each other.
 */
@Injectable()
export class NormalizedEventStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  async commit(items: NormalizedItem[], rawEventId: string): Promise<StoreResult> {
    const unique = new Map<string, NormalizedItem>();
    const duplicates: NormalizedItem[] = [];
    for (const item of items) {
      const key = keyOf(item.tenantId, item.dedupeKind, item.dedupeKey);
      if (unique.has(key)) duplicates.push(item);
      else unique.set(key, item);
    }
    if (unique.size === 0) return { emitted: [], duplicates };
    const sorted = [...unique.values()].sort((a, b) =>
      keyOf(a.tenantId, a.dedupeKind, a.dedupeKey) < keyOf(b.tenantId, b.dedupeKind, b.dedupeKey) ? -1 : 1,
    );
    const eventIdOf = (item: NormalizedItem) => deterministicUuid('wa.normalized', item.tenantId, item.dedupeKind, item.dedupeKey);

    return this.dataSource.transaction(async (manager) => {
      const table = manager.connection.getMetadata(WebhookDedupe).tablePath;
      const claimed: { tenant_id: string; kind: string; dedupe_key: string }[] = await manager.query(
        `INSERT INTO ${table} (tenant_id, kind, dedupe_key, event_id, raw_event_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::uuid[])
         ON CONFLICT DO NOTHING
         RETURNING tenant_id, kind, dedupe_key`,
        [
          sorted.map((i) => i.tenantId),
          sorted.map((i) => i.dedupeKind),
          sorted.map((i) => i.dedupeKey),
          sorted.map(eventIdOf),
          sorted.map(() => rawEventId),
        ],
      );
      const fresh = new Set(claimed.map((row) => keyOf(row.tenant_id, row.kind, row.dedupe_key)));
      const emitted: NormalizedItem[] = [];
      // Payload order, not key order: one citizen's messages reach the outbox as Meta listed them.
      for (const [key, item] of unique) {
        if (!fresh.has(key)) {
          duplicates.push(item);
          continue;
        }
        const spec = Topics[item.topic] as TopicSpec<typeof item.data>;
        const subject = 'messageId' in item.data ? item.data.messageId : undefined;
        await this.outbox.add(manager, spec, item.data, { id: eventIdOf(item), subject });
        emitted.push(item);
      }
      return { emitted, duplicates };
    });
  }
}
