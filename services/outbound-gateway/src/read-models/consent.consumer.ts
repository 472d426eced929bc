import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { Topics, type CitizenConsentV1 } from '@wa/contracts';
import { recipientId } from '../cloud-api/payload';

/**
 * Opt-ins and opt-outs per citizen and category. The newest by occurredAt wins, so a replayed or
 * late older event cannot undo a newer choice.
 */
@Controller()
export class ConsentConsumer {
  constructor(private readonly dataSource: DataSource) {}

  @EventPattern(Topics.citizenConsent.name)
  async record(@Payload() consent: CitizenConsentV1): Promise<void> {
    const waId = recipientId({ to: consent.contact }) ?? consent.contact.bsuid;
    if (!waId) return;
    await this.dataSource.query(
      `INSERT INTO gateway.consent (tenant_id, wa_id, category, state, channel, occurred_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, wa_id, category) DO UPDATE
       SET state = EXCLUDED.state, channel = EXCLUDED.channel, occurred_at = EXCLUDED.occurred_at
       WHERE consent.occurred_at <= EXCLUDED.occurred_at`,
      [consent.tenantId, waId, consent.category, consent.state, consent.channel, consent.occurredAt],
    );
  }
}
