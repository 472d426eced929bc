import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { Topics, type AccountEventV1 } from '@wa/contracts';
import { KafkaEventContext, processOnce } from '@wa/kafka';
import { counter } from '@wa/observability';
import { RegistryService } from '../registry/registry.service';

const TEMPLATE_KINDS = new Set(['template_status', 'template_quality', 'template_category', 'template_components']);
const applied = counter('templates_meta_events_total', 'Template events from Meta, by kind and outcome', ['kind', 'outcome']);

@Controller()
export class TemplateEventConsumer {
  private readonly logger = new Logger('TemplateEventConsumer');

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: RegistryService,
  ) {}

  /**
   * Status sync: what Meta said about each template (approved, rejected with the reason, paused,
   * disabled, quality, category) changes the translation, lands in its history and, when senders
   * must know, in the catalog. The raw event is kept in `template_event` too, also for templates
   * this registry does not know. Inbox + effect in one transaction: a redelivery changes nothing.
   */
  @EventPattern(Topics.accountEvent.name)
  async recordTemplateEvent(@Payload() event: AccountEventV1, @Ctx() ctx: KafkaEventContext): Promise<void> {
    if (!TEMPLATE_KINDS.has(event.kind)) return;
    let outcome = 'duplicate';
    await processOnce(this.dataSource, 'template-registry.account-events', ctx.envelope.id, async (manager) => {
      await manager.query(
        `INSERT INTO templates.template_event (event_id, tenant_id, template_name, language, kind, event, reason, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING`,
        [
          ctx.envelope.id,
          event.tenantId,
          event.templateName ?? null,
          event.templateLanguage ?? null,
          event.kind,
          event.event ?? null,
          event.reason ?? null,
          event.occurredAt,
        ],
      );
      outcome = await this.registry.applyMetaEvent(manager, event, ctx.envelope.id);
    });
    applied.inc({ kind: event.kind, outcome });
    if (outcome === 'unknown-template') {
      this.logger.warn(
        `${event.kind} ${event.event ?? ''} for a template the registry does not know: ${event.tenantId}/${event.templateName ?? event.templateId ?? '?'} (${event.templateLanguage ?? '?'}); an import adopts it`,
      );
    }
  }
}
