import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { citizenKeyOf, Topics, type CitizenConsentV1 } from '@wa/contracts';

/**
 * Opt-ins and opt-outs per citizen (by citizen key, so a STOP from a wa_id meets a send to the
 * E.164 number of the same person) and category. The newest by occurredAt wins, so a replayed or
 * late older event cannot undo a newer choice.
 */
@Controller()
export class ConsentConsumer {
  constructor(private readonly dataSource: DataSource) {}

  @EventPattern(Topics.citizenConsent.name)
  async record(@Payload() consent: CitizenConsentV1): Promise<void> {
    const citizen = citizenKeyOf(consent.contact);
    if (!citizen) return;
    await this.dataSource.query(
      `INSERT INTO gateway.consent (tenant_id, citizen_key, category, state, channel, occurred_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, citizen_key, category) DO UPDATE
       SET state = EXCLUDED.state, channel = EXCLUDED.channel, occurred_at = EXCLUDED.occurred_at
       WHERE consent.occurred_at <= EXCLUDED.occurred_at`,
      [consent.tenantId, citizen, consent.category, consent.state, consent.channel, consent.occurredAt],
    );
  }
}
