import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { citizenKeyOf, Topics, type CitizenConsentV1 } from '@wa/contracts';
import { consentRepository } from './consent.repository';

/**
 * The consent read model the sweep checks before every notice: the latest state per citizen key
 * and category (STOP/START in the chatbot, Meta's user preferences, an agency event's consent).
 * The key folds a STOP's wa_id and the agency's E.164 number of the same person into one; a
 * citizen known only by a business-scoped user id is kept under `bsuid:<id>`.
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
    await consentRepository.record(this.dataSource.manager, {
      tenantId: consent.tenantId,
      citizenKey: citizen,
      category: consent.category,
      state: consent.state,
      channel: consent.channel,
      occurredAt: consent.occurredAt,
    });
  }
}
