import { context, type Context } from '@opentelemetry/api';
import type { EntityManager } from 'typeorm';
import { CE, encodeEvent, type TopicSpec } from '@wa/contracts';
import { injectTraceContext, OutboxRecord } from '@wa/kafka';

type Tenanted = object & { tenantId: string };

export interface OutboxEntry {
  spec: TopicSpec<Tenanted>;
  data: Tenanted;
  id: string;
  subject?: string;
  /** The trace the event belongs to (defaults to the active one). */
  parent?: Context;
}

/**
 * What Outbox.add does (validate and encode the CloudEvent, keep the trace context, insert into the
 * service's outbox in the caller's transaction), for a whole batch in one statement. A raw batch
 * yields hundreds of events; one awaited round trip each is slow on its own and much slower when
 * the event loop is also busy answering webhooks. Same table, same relay.
 * (The scheduler has the same helper; both belong in @wa/kafka as Outbox.addMany.)
 */
export async function addManyToOutbox(manager: EntityManager, source: string, entries: OutboxEntry[]): Promise<void> {
  if (entries.length === 0) return;
  if (!manager.queryRunner?.isTransactionActive) throw new Error('addManyToOutbox must run inside a transaction');
  const active = context.active();
  const rows = entries.map(({ spec, data, id, subject, parent }) => {
    const encoded = encodeEvent(spec, data, { source, id, subject });
    injectTraceContext(encoded.headers, parent ?? active);
    return { eventId: encoded.headers[CE.id], topic: spec.name, key: encoded.key, value: encoded.value, headers: encoded.headers };
  });
  // unnest keeps it five parameters whatever the row count (a VALUES list would need 5 per row).
  const table = manager.connection.getMetadata(OutboxRecord).tablePath;
  await manager.query(
    `INSERT INTO ${table} ("eventId", "topic", "key", "value", "headers")
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[])`,
    [
      rows.map((r) => r.eventId),
      rows.map((r) => r.topic),
      rows.map((r) => r.key),
      rows.map((r) => r.value),
      rows.map((r) => JSON.stringify(r.headers)),
    ],
  );
}
