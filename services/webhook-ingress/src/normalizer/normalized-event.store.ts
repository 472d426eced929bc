import { Injectable } from '@nestjs/common';
import type { Context } from '@opentelemetry/api';
import type { EntityManager } from 'typeorm';
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
 * Claims each item's dedupe key and writes the outbox row of the claimed ones, inside the caller's
 * transaction: either both commit or neither, so an event is published once per key however many
 * times (and on however many replicas) its webhook is processed. Concurrent claims of one key
 * serialize on the primary key; keys are inserted in sorted order so two batches cannot deadlock.
 */
@Injectable()
export class NormalizedEventStore {
  constructor(private readonly outbox: Outbox) {}

  /**
   * Items keep their order (payload order, then record order); the first of equal keys wins.
   * `traceOf` gives an item's trace (its raw record's), so a webhook stays one trace downstream.
   */
  async commit(
    manager: EntityManager,
    items: NormalizedItem[],
    traceOf?: (item: NormalizedItem) => Context | undefined,
  ): Promise<StoreResult> {
    const unique = new Map<string, NormalizedItem>();
    const duplicates: NormalizedItem[] = [];
    for (const item of items) {
      const key = keyOf(item.tenantId, item.dedupeKind, item.dedupeKey);
      if (unique.has(key)) duplicates.push(item);
      else unique.set(key, item);
    }
    if (unique.size === 0) return { emitted: [], duplicates };
    const sorted = [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, item]) => item);
    // A SHA-256 per item, so once: the dedupe row and the outbox row both carry it.
    const eventIds = new Map(
      sorted.map((item) => [item, deterministicUuid('wa.normalized', item.tenantId, item.dedupeKind, item.dedupeKey)]),
    );
    const eventIdOf = (item: NormalizedItem) => eventIds.get(item)!;

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
        sorted.map((i) => i.data.rawEventId),
      ],
    );
    const fresh = new Set(claimed.map((row) => keyOf(row.tenant_id, row.kind, row.dedupe_key)));
    const emitted: NormalizedItem[] = [];
    for (const [key, item] of unique) {
      if (fresh.has(key)) emitted.push(item);
      else duplicates.push(item);
    }
    // Payload order, then record order: one citizen's events reach the outbox (and Kafka) in order.
    await this.outbox.addMany(
      manager,
      emitted.map((item) => ({
        spec: Topics[item.topic] as unknown as TopicSpec<typeof item.data>,
        data: item.data,
        id: eventIdOf(item),
        subject: 'messageId' in item.data ? item.data.messageId : undefined,
        parent: traceOf?.(item),
        validate: !item.contractChecked,
      })),
    );
    return { emitted, duplicates };
  }
}
