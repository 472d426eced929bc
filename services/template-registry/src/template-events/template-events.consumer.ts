import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { Topics, type AccountEventV1 } from '@wa/contracts';
import { KafkaEventContext } from '@wa/kafka';

@Controller()
export class TemplateEventConsumer {
  constructor(private readonly dataSource: DataSource) {}

  /** Keeps the history of what Meta said about each template (status, quality, category). */
  @EventPattern(Topics.accountEvent.name)
  async recordTemplateEvent(@Payload() event: AccountEventV1, @Ctx() ctx: KafkaEventContext): Promise<void> {
    if (!event.kind.startsWith('template_')) return;
    await this.dataSource.query(
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
  }
}
