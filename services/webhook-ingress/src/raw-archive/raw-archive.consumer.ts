import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { Topics, type WebhookRawV1 } from '@wa/contracts';
import { KafkaEventContext } from '@wa/kafka';
import { RawWebhook } from './raw-webhook.entity';

@Controller()
export class RawArchiveConsumer {
  constructor(private readonly dataSource: DataSource) {}

  /** Keeps a queryable copy of each raw body; idempotent on the record's ce_id. */
  @EventPattern(Topics.webhookRaw.name)
  async archive(@Payload() raw: WebhookRawV1, @Ctx() ctx: KafkaEventContext): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(RawWebhook)
      .values({ eventId: ctx.envelope.id, tenantId: raw.tenantId, appId: raw.appId, receivedAt: new Date(raw.receivedAt), body: raw.body })
      .orIgnore()
      .execute();
  }
}
