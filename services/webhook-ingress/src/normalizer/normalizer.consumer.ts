import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Topics, type WebhookRawV1 } from '@wa/contracts';
import { KafkaEventContext } from '@wa/kafka';
import { counter } from '@wa/observability';
import { TenantRegistry } from '@wa/tenancy';
import { normalizeWebhook, type NormalizedItem } from './normalize';
import { NormalizedEventStore } from './normalized-event.store';

const normalizedEvents = counter('webhook_normalized_events_total', 'Typed events from webhooks, by outcome', [
  'tenant',
  'topic',
  'outcome',
]);
const quarantined = counter('webhook_quarantined_total', 'Webhook parts kept in quarantine, by reason', ['tenant', 'reason']);

/**
 * Second consumer of the raw topic (next to the archive): raw bodies become typed, deduplicated
 * events. Running it from the topic rather than in the HTTP handler keeps the webhook fast and lets
 * the raw topic be replayed through an improved parser (the dedupe table keeps replays from
 * emitting events twice).
 */
@Controller()
export class NormalizerConsumer {
  private readonly logger = new Logger(NormalizerConsumer.name);

  constructor(
    private readonly registry: TenantRegistry,
    private readonly store: NormalizedEventStore,
  ) {}

  @EventPattern(Topics.webhookRaw.name)
  async normalize(@Payload() raw: WebhookRawV1, @Ctx() ctx: KafkaEventContext): Promise<void> {
    const rawEventId = ctx.envelope.id;
    const items = normalizeWebhook(raw.body, { appId: raw.appId, receivedAt: raw.receivedAt, rawEventId }, this.registry);
    const { emitted, duplicates } = await this.store.commit(items, rawEventId);
    this.count(emitted, 'emitted');
    this.count(duplicates, 'duplicate');
    for (const item of emitted) {
      if (item.topic !== 'webhookQuarantine') continue;
      quarantined.inc({ tenant: item.tenantId, reason: item.data.reason });
      this.logger.warn({ rawEventId, tenantId: item.tenantId, reason: item.data.reason, path: item.data.path }, 'webhook part quarantined');
    }
  }

  private count(items: NormalizedItem[], outcome: string): void {
    for (const item of items) normalizedEvents.inc({ tenant: item.tenantId, topic: item.topic, outcome });
  }
}
