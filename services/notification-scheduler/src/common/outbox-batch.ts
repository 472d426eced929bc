import { context } from '@opentelemetry/api';
import type { EntityManager } from 'typeorm';
import { CE, encodeEvent, type TopicSpec } from '@wa/contracts';
import { injectTraceContext, OutboxRecord } from '@wa/kafka';

export interface OutboxItem<T extends object & { tenantId: string }> {
  spec: TopicSpec<T>;
  data: T;
  /** ce_id: deterministic ids make a repeated write fail on the outbox's unique eventId. */
  id: string;
}

/**
 * What Outbox.add does (validate and encode the CloudEvent, keep the trace context, insert into
 * this service's outbox table, in the caller's transaction), for many events in one INSERT. A
 * sweep writes up to hundreds of send requests; one statement instead of one round trip each is
 * most of the dispatch throughput. Same table, same entity, same relay.
 */
export async function addToOutbox(m: EntityManager, source: string, items: OutboxItem<object & { tenantId: string }>[]): Promise<void> {
  if (items.length === 0) return;
  if (!m.queryRunner?.isTransactionActive) throw new Error('addToOutbox must run inside a transaction (dataSource.transaction(...))');
  const active = context.active();
  const rows = items.map(({ spec, data, id }) => {
    const encoded = encodeEvent(spec, data, { source, id });
    injectTraceContext(encoded.headers, active);
    return { eventId: encoded.headers[CE.id], topic: spec.name, key: encoded.key, value: encoded.value, headers: encoded.headers };
  });
  // unnest() keeps it one statement with five parameters: a VALUES list of 500 rows has 2,500
  // parameters and costs Postgres ~10x more to parse and plan. Columns as in the shared DDL.
  const table = m.connection.getMetadata(OutboxRecord).tablePath;
  await m.query(
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

export const OUTBOX_SOURCE = '/services/notification-scheduler';
