import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Topics, type InboundMessageV1 } from '@wa/contracts';
import { TurnService } from './turn.service';

/**
 * Citizen messages. One citizen's messages share a partition (keyed `tenant:citizenKey`), so they
 * are answered in order; each is handled once (inbox by wamid).
 */
@Controller()
export class InboundConsumer {
  constructor(private readonly turns: TurnService) {}

  @EventPattern(Topics.inboundMessage.name)
  async onMessage(@Payload() message: InboundMessageV1): Promise<void> {
    await this.turns.onInbound(message);
  }
}
