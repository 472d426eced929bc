import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { Topics, type ConversationOwnerV1 } from '@wa/contracts';
import { applyOwnerChange, isWindowOpen, type OwnerChange } from '@wa/conversation';
import { processOnce, type KafkaEventContext } from '@wa/kafka';
import { TenantRegistry } from '@wa/tenancy';
import { OwnerRepository } from '../store/owners.repository';
import { ProfileRepository } from '../store/profiles.repository';
import { SessionRepository } from '../store/sessions.repository';
import { replyContact } from './inbound-input';
import { notice } from './notices';
import { TurnService, textMessage } from './turn.service';

/**
 * Folds `conversation.owner.v1` into who answers each citizen (the same rule the router folds
 * with). When an agent closes the conversation (`released`), the bot takes over again and says
 * so in the citizen's language, if the 24-hour window is still open.
 */
@Controller()
export class OwnerConsumer {
  private readonly log = new Logger('Owner');

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: TenantRegistry,
    private readonly owners: OwnerRepository,
    private readonly profiles: ProfileRepository,
    private readonly sessions: SessionRepository,
    private readonly turns: TurnService,
  ) {}

  @EventPattern(Topics.conversationOwner.name)
  async onChange(@Payload() event: ConversationOwnerV1, @Ctx() context: KafkaEventContext): Promise<void> {
    await processOnce(this.dataSource, 'chatbot.owner', context.envelope.id, async (manager) => {
      const current = await this.owners.lock(manager, event.tenantId, event.citizenKey);
      const decision = applyOwnerChange(current, {
        change: event.change as OwnerChange,
        conversationId: event.conversationId,
        agentId: event.agentId,
        department: event.department,
        occurredAt: event.occurredAt,
      });
      if (!decision.applied) {
        this.log.debug({ tenant: event.tenantId, change: event.change, reason: decision.reason }, 'owner change not applied');
        return;
      }
      await this.owners.save(manager, event.tenantId, event.citizenKey, decision.next);
      if (event.change !== 'released') return;
      // The handoff ended the flow's session; a stale one must not capture the next message.
      await this.sessions.delete(manager, event.tenantId, event.citizenKey);
      const tenant = this.registry.tenant(event.tenantId);
      const profile = await this.profiles.get(manager, event.tenantId, event.citizenKey);
      if (!tenant || !profile || !isWindowOpen(profile.lastInboundAt)) return;
      const language = profile.language ?? event.language ?? tenant.defaultLanguage;
      const to = replyContact(profile.contact);
      await this.turns.replies.reply(
        manager,
        { tenantId: tenant.id, to, inboundMessageId: `owner:${context.envelope.id}`, phoneNumberId: profile.phoneNumberId ?? undefined },
        [textMessage(notice('resumed', language, tenant.languages))],
      );
    });
  }
}
