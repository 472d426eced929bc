import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { Topics, type CitizenErasureRequestedV1 } from '@wa/contracts';
import { Outbox, type KafkaEventContext } from '@wa/kafka';
import { applyCitizenErasure } from '@wa/service-kit';
import { handoffRouterService } from '../service';
import { eraseHandoffCitizen } from './citizen-erasure';

/** Erases a citizen from this service's schema on `citizen.erasure.v1` and answers on `citizen.erasure.result.v1`. */
@Controller()
export class CitizenErasureConsumer {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  @EventPattern(Topics.citizenErasure.name)
  async onErasure(@Payload() _request: CitizenErasureRequestedV1, @Ctx() context: KafkaEventContext): Promise<void> {
    await applyCitizenErasure(this.dataSource, this.outbox, handoffRouterService, context.envelope, eraseHandoffCitizen);
  }
}
