import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { Topics, type CitizenConsentV1 } from '@wa/contracts';

/**
 * The consent read model the sweep checks before every notice: the latest state per citizen and
 * category. Occurrence time decides, not arrival order, so a late opt-in cannot undo a newer
 * opt-out (and a replay changes nothing).
 */
@Controller()
export class ConsentConsumer {
  private readonly log = new Logger('Consent');

  constructor(private readonly dataSource: DataSource) {}

  @EventPattern(Topics.citizenConsent.name)
  async apply(@Payload() consent: CitizenConsentV1): Promise<void> {
    const waId = consent.contact.waId ?? consent.contact.phone?.replace(/^\+/, '');
    if (!waId) {
      // Username-only contacts (BSUID) cannot be matched to an agency's phone number.
      this.log.warn({ tenant: consent.tenantId }, 'consent without a phone number or wa_id; not applicable to notices');
      return;
    }
    // A choice for `all` is also the latest word on each category (an opt-in to everything
    // lifts an earlier utility opt-out); a category choice leaves the others alone.
    const categories = consent.category === 'all' ? ['all', 'utility', 'marketing'] : [consent.category];
    await this.dataSource.query(
      `INSERT INTO scheduler.consent (tenant_id, wa_id, category, state, channel, occurred_at)
       SELECT $1, $2, category, $4, $5, $6 FROM unnest($3::text[]) AS category
       ON CONFLICT (tenant_id, wa_id, category) DO UPDATE SET state = EXCLUDED.state, channel = EXCLUDED.channel, occurred_at = EXCLUDED.occurred_at
       WHERE consent.occurred_at <= EXCLUDED.occurred_at`,
      [consent.tenantId, waId, categories, consent.state, consent.channel, consent.occurredAt],
    );
  }
}
