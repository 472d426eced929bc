import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { Topics, type CitizenPreferenceV1 } from '@wa/contracts';
import type { KafkaEventContext } from '@wa/kafka';
import { preferenceRepository } from './preference.repository';

/**
 * The language each citizen chose in the chatbot, used for a notice whose agency event names no
 * language. The topic is compacted on `tenant:citizenKey`; a tombstone forgets the choice.
 */
@Controller()
export class PreferenceConsumer {
  constructor(private readonly dataSource: DataSource) {}

  @EventPattern(Topics.citizenPreference.name)
  async apply(@Payload() preference: CitizenPreferenceV1 | null, @Ctx() ctx: KafkaEventContext): Promise<void> {
    if (ctx.envelope.tombstone || preference === null) {
      // The citizen key may hold a colon (`bsuid:<id>`): only the first one ends the tenant.
      const key = ctx.record.key ?? '';
      const colon = key.indexOf(':');
      const tenantId = key.slice(0, colon);
      const citizenKey = key.slice(colon + 1);
      if (colon < 1 || !citizenKey || tenantId !== ctx.envelope.tenantId) return;
      await preferenceRepository.forget(this.dataSource.manager, tenantId, citizenKey);
      return;
    }
    await preferenceRepository.record(this.dataSource.manager, preference);
  }
}
