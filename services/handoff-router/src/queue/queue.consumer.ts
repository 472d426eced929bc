import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { Topics, type HandoffRequestV1 } from '@wa/contracts';
import { KafkaEventContext, processOnce } from '@wa/kafka';

@Controller()
export class HandoffRequestConsumer {
  constructor(private readonly dataSource: DataSource) {}

  /** A bot handoff becomes a queued request, once, however often Kafka delivers it. */
  @EventPattern(Topics.handoffRequest.name)
  async enqueue(@Payload() request: HandoffRequestV1, @Ctx() ctx: KafkaEventContext): Promise<void> {
    await processOnce(this.dataSource, 'handoff-request', ctx.envelope.id, async (manager) => {
      await manager.query(
        `INSERT INTO handoff.handoff_request (conversation_id, tenant_id, department, language, state, requested_at)
         VALUES ($1, $2, $3, $4, 'queued', $5) ON CONFLICT (conversation_id) DO NOTHING`,
        [request.conversationId, request.tenantId, request.department, request.language, request.requestedAt],
      );
    });
  }
}
