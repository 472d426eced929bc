import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { parseGatewayCallbackData, Topics, type MessageStatusV1 } from '@wa/contracts';
import { Outbox } from '@wa/kafka';
import { counter } from '@wa/observability';
import { addResult, type ResultSource } from '../dispatch/results';
import { rows as sql } from '../db';

const statuses = counter('gateway_statuses_total', 'Status webhooks joined to send requests', ['status', 'joined']);

/** sent < delivered < read/played; failed is terminal (Meta does not order statuses, §2.4). */
export const STATUS_RANK: Record<string, number> = { sent: 1, delivered: 2, read: 3, played: 3, failed: 9 };

/**
 * Joins status webhooks to send requests, by wamid and by biz_opaque_callback_data (which carries
 * the requestId, so a status settles a send whose outcome we never learnt: crash, timeout).
 * One row per (wamid, status) absorbs Meta's duplicate deliveries.
 */
@Controller()
export class MessageStatusConsumer {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  @EventPattern(Topics.messageStatus.name)
  async record(@Payload() status: MessageStatusV1): Promise<void> {
    const named = parseGatewayCallbackData(status.bizOpaqueCallbackData);
    await this.dataSource.transaction(async (manager) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO gateway.message_status (wamid, status, occurred_at, tenant_id, request_id, errors, pricing)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (wamid, status) DO NOTHING RETURNING 1`,
        [
          status.messageId,
          status.status,
          status.occurredAt,
          status.tenantId,
          named?.requestId ?? null,
          status.errors ? JSON.stringify(status.errors) : null,
          status.pricing ? JSON.stringify(status.pricing) : null,
        ],
      );
      if (inserted.length === 0) return;

      if (named) {
        // A send we could not confirm (uncertain, or resent after it): Meta did accept it.
        const settled = await sql<ResultSource & { wamid: string }>(
          manager,
          `UPDATE gateway.outbound_message m
           SET state = 'accepted', wamid = $3, decided_at = now(), uncertain_since = NULL, claimed_by = NULL, lease_until = NULL,
               events = m.events || jsonb_build_array(jsonb_build_object('at', now(), 'type', 'settled-by-status', 'wamid', $3::text)), updated_at = now()
           WHERE m.request_id = $1 AND m.tenant_id = $2
             AND (m.state = 'uncertain' OR (m.state IN ('queued', 'sending') AND m.uncertain_since IS NOT NULL))
             AND NOT EXISTS (SELECT 1 FROM gateway.outbound_message o WHERE o.wamid = $3)
           RETURNING m.request_id, m.tenant_id, m.phone_number_id, m.request, m.attempts, m.trace, m.wamid`,
          [named.requestId, status.tenantId, status.messageId],
        );
        for (const row of settled) await addResult(this.outbox, manager, row, { outcome: 'accepted', wamid: row.wamid });
      }

      const joined = await sql(
        manager,
        `UPDATE gateway.outbound_message
         SET delivery_status = $2, delivery_status_at = $3, updated_at = now()
         WHERE wamid = $1 AND tenant_id = $4
           AND (delivery_status IS NULL
                OR (delivery_status <> 'failed' AND (CASE delivery_status WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 ELSE 3 END) < $5))
         RETURNING 1`,
        [status.messageId, status.status, status.occurredAt, status.tenantId, STATUS_RANK[status.status] ?? 0],
      );
      statuses.inc({ status: status.status, joined: joined.length ? 'yes' : 'no' });
    });
  }
}
