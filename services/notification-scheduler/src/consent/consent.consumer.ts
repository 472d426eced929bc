import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { citizenKeyOf, Topics, type CitizenConsentV1 } from '@wa/contracts';

/**
 * The consent read model the sweep checks before every notice: the latest state per citizen key
 * and category. The key folds a STOP's wa_id and the agency's E.164 number of the same person into
 * one; a citizen known only by a business-scoped user id is kept under `bsuid:<id>`. Occurrence time decides, not arrival order, so a late opt-in cannot undo a newer
 * opt-out (and a replay changes nothing).
 */
@Controller()
export class ConsentConsumer {
  private readonly log = new Logger('Consent');

  constructor(private readonly dataSource: DataSource) {}

  @EventPattern(Topics.citizenConsent.name)
  async apply(@Payload() consent: CitizenConsentV1): Promise<void> {
    const citizen = citizenKeyOf(consent.contact);
    if (!citizen) {
      this.log.warn({ tenant: consent.tenantId }, 'consent names no citizen (no wa_id, phone or bsuid); not applicable to notices');
      return;
    }
    // A choice for `all` is also the latest word on each category (an opt-in to everything
    // lifts an earlier utility opt-out); a category choice leaves the others alone.
    const categories = consent.category === 'all' ? ['all', 'utility', 'marketing'] : [consent.category];
    await this.dataSource.query(
      `INSERT INTO scheduler.consent (tenant_id, citizen_key, category, state, channel, occurred_at)
       SELECT $1, $2, category, $4, $5, $6 FROM unnest($3::text[]) AS category
       ON CONFLICT (tenant_id, citizen_key, category) DO UPDATE SET state = EXCLUDED.state, channel = EXCLUDED.channel, occurred_at = EXCLUDED.occurred_at
       WHERE consent.occurred_at <= EXCLUDED.occurred_at`,
      [consent.tenantId, citizen, categories, consent.state, consent.channel, consent.occurredAt],
    );
  }
}
