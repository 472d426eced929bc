import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { parseGatewayCallbackData, Topics, type MessageStatusV1 } from '@wa/contracts';
import { ConsumerHost, Outbox, type BatchItem } from '@wa/kafka';
import { counter } from '@wa/observability';
import { rows as sql } from '../db';
import { addResult, type ResultSource } from '../dispatch/results';

const statuses = counter('gateway_statuses_total', 'Status webhooks recorded (new = not a duplicate)', ['status', 'new']);

/** sent < delivered < read/played; failed is terminal (Meta does not order statuses, §2.4). */
export const STATUS_RANK: Record<string, number> = { sent: 1, delivered: 2, read: 3, played: 3, failed: 9 };

/**
 * Joins status webhooks to send requests, a batch at a time: by wamid, and by
 * biz_opaque_callback_data, which carries the requestId, so a status settles a send whose outcome
 * we never learnt (crash, timeout). One row per (wamid, status) absorbs Meta's duplicates.
 */
@Injectable()
export class MessageStatusConsumer {
  constructor(
    host: ConsumerHost,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {
    host.registerBatch(Topics.messageStatus, (items) => this.record(items.map((i: BatchItem) => i.envelope.data as MessageStatusV1)), {
      maxBatchSize: 200,
    });
  }

  async record(batch: MessageStatusV1[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const fresh = await sql<{ wamid: string; status: string; request_id: string | null; tenant_id: string }>(
        manager,
        `INSERT INTO gateway.message_status (wamid, status, occurred_at, tenant_id, request_id, errors, pricing)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::uuid[], $6::jsonb[], $7::jsonb[])
         ON CONFLICT (wamid, status) DO NOTHING
         RETURNING wamid, status, request_id, tenant_id`,
        [
          batch.map((s) => s.messageId),
          batch.map((s) => s.status),
          batch.map((s) => s.occurredAt),
          batch.map((s) => s.tenantId),
          batch.map((s) => parseGatewayCallbackData(s.bizOpaqueCallbackData)?.requestId ?? null),
          batch.map((s) => (s.errors ? JSON.stringify(s.errors) : null)),
          batch.map((s) => (s.pricing ? JSON.stringify(s.pricing) : null)),
        ],
      );
      for (const s of batch)
        statuses.inc({ status: s.status, new: fresh.some((f) => f.wamid === s.messageId && f.status === s.status) ? 'yes' : 'no' });
      if (fresh.length === 0) return;

      // A send we could not confirm (uncertain, or resent after being uncertain): Meta did accept it.
      const named = new Map<string, { wamid: string; tenant: string }>();
      for (const f of fresh) if (f.request_id && !named.has(f.request_id)) named.set(f.request_id, { wamid: f.wamid, tenant: f.tenant_id });
      if (named.size) {
        const settled = await sql<ResultSource & { wamid: string }>(
          manager,
          `UPDATE gateway.outbound_message m
           SET state = 'accepted', wamid = v.wamid, decided_at = now(), uncertain_since = NULL, claimed_by = NULL, lease_until = NULL,
               events = m.events || jsonb_build_array(jsonb_build_object('at', now(), 'type', 'settled-by-status', 'wamid', v.wamid)), updated_at = now()
           FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(request_id, wamid, tenant_id)
           WHERE m.request_id = v.request_id AND m.tenant_id = v.tenant_id
             AND (m.state = 'uncertain' OR (m.state IN ('queued', 'claimed', 'sending') AND m.uncertain_since IS NOT NULL))
             AND NOT EXISTS (SELECT 1 FROM gateway.outbound_message o WHERE o.wamid = v.wamid)
           RETURNING m.request_id, m.tenant_id, m.phone_number_id, m.request, m.attempts, m.trace, m.wamid`,
          [[...named.keys()], [...named.values()].map((n) => n.wamid), [...named.values()].map((n) => n.tenant)],
        );
        for (const row of settled) await addResult(this.outbox, manager, row, { outcome: 'accepted', wamid: row.wamid });
      }
    });
  }
}
