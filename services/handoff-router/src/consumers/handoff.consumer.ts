import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import {
  parseGatewayCallbackData,
  Topics,
  type CallcenterDeflectionV1,
  type ConversationOwnerV1,
  type HandoffMessageV1,
  type HandoffRequestV1,
  type InboundMessageV1,
  type MessageStatusV1,
  type OutboundResultV1,
  type TemplateCatalogEntryV1,
} from '@wa/contracts';
import { applyOwnerChange, type OwnerChange } from '@wa/conversation';
import { NonRetriableError, processOnce, type KafkaEventContext } from '@wa/kafka';
import { outcomeOfResult, outcomeOfStatus } from '../rules/deflection';
import { AgentWorkService } from '../routing/agent-work.service';
import { DeflectionService } from '../routing/deflection.service';
import { ROUTER, RouterService, RoutingError } from '../routing/router.service';
import { ConversationRepository } from '../store/conversations.repository';
import { DeflectionRepository } from '../store/deflections.repository';
import { OwnerRepository } from '../store/owners.repository';
import { TemplateRepository } from '../store/templates.repository';

/** Everything the router reads from Kafka; each record's effect commits once with its inbox row. */
@Controller()
export class HandoffConsumer {
  private readonly log = new Logger('HandoffConsumer');

  constructor(
    private readonly dataSource: DataSource,
    private readonly router: RouterService,
    private readonly work: AgentWorkService,
    private readonly deflection: DeflectionService,
    private readonly conversations: ConversationRepository,
    private readonly deflections: DeflectionRepository,
    private readonly owners: OwnerRepository,
    private readonly templates: TemplateRepository,
  ) {}

  @EventPattern(Topics.handoffRequest.name)
  async onRequest(@Payload() request: HandoffRequestV1, @Ctx() ctx: KafkaEventContext): Promise<void> {
    // Queued and assigned in one transaction: the agent's stream hears of it as it commits.
    await processOnce(this.dataSource, 'handoff.request', ctx.envelope.id, async (m) => {
      // The tenant's assignment lock first, then the event log's cursor: the order every writer keeps.
      await this.router.lockTenant(m, request.tenantId);
      if (await this.router.enqueue(m, request)) await this.router.assignIn(m, request.tenantId);
    });
  }

  @EventPattern(Topics.handoffMessage.name)
  async onMessage(@Payload() message: HandoffMessageV1): Promise<void> {
    await processOnce(this.dataSource, 'handoff.message', `${message.tenantId}:${message.messageId}`, (m) =>
      this.work.onCitizenMessage(m, message),
    );
  }

  /** The same fold as the chatbot's: an episode another party ended (expired, released) closes here too. */
  @EventPattern(Topics.conversationOwner.name)
  async onOwner(@Payload() event: ConversationOwnerV1, @Ctx() ctx: KafkaEventContext): Promise<void> {
    let drain = false;
    await processOnce(this.dataSource, 'handoff.owner', ctx.envelope.id, async (m) => {
      const current = await this.owners.lock(m, event.tenantId, event.citizenKey);
      const decision = applyOwnerChange(current, {
        change: event.change as OwnerChange,
        conversationId: event.conversationId,
        agentId: event.agentId,
        department: event.department,
        occurredAt: event.occurredAt,
      });
      if (!decision.applied) return;
      await this.owners.save(m, event.tenantId, event.citizenKey, decision.next);
      const mine = event.changedBy === ROUTER || event.changedBy.startsWith('agent:');
      if (mine || (event.change !== 'expired' && event.change !== 'released')) return;
      const row = await this.conversations.get(m, event.tenantId, event.conversationId, true);
      if (row && row.state !== 'closed') {
        await this.conversations.close(m, event.tenantId, row.id, event.change, new Date(event.occurredAt));
        drain = row.state === 'assigned';
      }
    });
    if (drain) await this.router.drainSoon(event.tenantId);
  }

  @EventPattern(Topics.callcenterDeflection.name)
  async onDeflection(@Payload() request: CallcenterDeflectionV1, @Ctx() ctx: KafkaEventContext): Promise<void> {
    try {
      await this.deflection.start(request);
    } catch (error) {
      if (!(error instanceof RoutingError)) throw error;
      // Bad input from the call centre: answered as failed on the result topic, never retried.
      await this.dataSource.transaction(async (m) => {
        await this.router.outbox.add(m, Topics.callcenterDeflectionResult, {
          tenantId: request.tenantId,
          callId: request.callId,
          outcome: 'failed',
          detail: `${error.code}: ${error.message}`.slice(0, 500),
          occurredAt: new Date().toISOString(),
        });
      });
      this.log.warn({ tenant: request.tenantId, code: error.code, event: ctx.envelope.id }, 'deflection refused');
    }
  }

  @EventPattern(Topics.inboundMessage.name)
  async onInbound(@Payload() message: InboundMessageV1): Promise<void> {
    let queued = false;
    await processOnce(this.dataSource, 'handoff.inbound', `${message.tenantId}:${message.messageId}`, async (m) => {
      queued = await this.deflection.onInbound(m, message);
    });
    if (queued) await this.router.drainSoon(message.tenantId);
  }

  @EventPattern(Topics.outboundResult.name)
  async onResult(@Payload() result: OutboundResultV1): Promise<void> {
    if (!this.router.replies.isMine(result)) return;
    await this.dataSource.transaction(async (m) => {
      const offer = await this.deflections.byRequest(m, result.requestId);
      if (offer) {
        if (result.wamid) await this.deflections.setWamid(m, offer.tenantId, offer.callId, result.wamid);
        const decided = outcomeOfResult(result);
        if (decided) await this.deflection.decide(m, offer, decided);
        return;
      }
      await this.work.onResult(m, result);
    });
  }

  @EventPattern(Topics.messageStatus.name)
  async onStatus(@Payload() status: MessageStatusV1): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const requestId = parseGatewayCallbackData(status.bizOpaqueCallbackData)?.requestId;
      const offer =
        (requestId && (await this.deflections.byRequest(m, requestId))) ||
        (await this.deflections.byWamid(m, status.tenantId, status.messageId));
      if (offer && offer.tenantId === status.tenantId) {
        const decided = outcomeOfStatus(status);
        if (decided) await this.deflection.decide(m, offer, decided);
        return;
      }
      await this.work.onStatus(m, status);
    });
  }

  @EventPattern(Topics.templateCatalog.name)
  async onTemplate(@Payload() entry: TemplateCatalogEntryV1): Promise<void> {
    if (!entry.tenantId) throw new NonRetriableError('catalog entry without tenant', 'no-tenant');
    await this.templates.upsert(this.dataSource.manager, entry);
  }
}
