import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { WebhookRawV2 } from '@wa/contracts';
import { RawWebhook } from './raw-webhook.entity';

/** Keeps a queryable copy of each raw body (Meta offers no way to re-fetch a webhook); idempotent on the record's ce_id. */
@Injectable()
export class RawArchive {
  /**
   * One JSON document for the whole batch, as the outbox writes its rows: TypeORM's insert builder
   * names five parameters per row and rescans the SQL for each one, which was ~5 % of a
   * normalizer's CPU at a few hundred records per batch.
   */
  async archive(manager: EntityManager, records: { eventId: string; raw: WebhookRawV2 }[]): Promise<void> {
    if (records.length === 0) return;
    const table = manager.connection.getMetadata(RawWebhook).tablePath;
    await manager.query(
      `INSERT INTO ${table} (event_id, tenant_id, app_id, received_at, body)
       SELECT event_id, tenant_id, app_id, received_at, body
       FROM jsonb_to_recordset($1::jsonb) AS r(event_id uuid, tenant_id text, app_id text, received_at timestamptz, body text)
       ON CONFLICT (event_id) DO NOTHING`,
      [
        JSON.stringify(
          records.map(({ eventId, raw }) => ({
            event_id: eventId,
            tenant_id: raw.tenantId,
            app_id: raw.appId,
            received_at: raw.receivedAt,
            body: raw.body,
          })),
        ),
      ],
    );
  }
}
