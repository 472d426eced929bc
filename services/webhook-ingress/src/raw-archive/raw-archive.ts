import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { WebhookRawV2 } from '@wa/contracts';
import { RawWebhook } from './raw-webhook.entity';

/** Keeps a queryable copy of each raw body (Meta offers no way to re-fetch a webhook); idempotent on the record's ce_id. */
@Injectable()
export class RawArchive {
  async archive(manager: EntityManager, records: { eventId: string; raw: WebhookRawV2 }[]): Promise<void> {
    if (records.length === 0) return;
    await manager
      .createQueryBuilder()
      .insert()
      .into(RawWebhook)
      .values(
        records.map(({ eventId, raw }) => ({
          eventId,
          tenantId: raw.tenantId,
          appId: raw.appId,
          receivedAt: new Date(raw.receivedAt),
          body: raw.body,
        })),
      )
      .orIgnore()
      .execute();
  }
}
