import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { citizenKeyOf, Topics, type InboundMessageV1 } from '@wa/contracts';

@Controller()
export class ContactWindowConsumer {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Each citizen message reopens the 24-hour customer service window between that citizen and the
   * business number they wrote to. The dispatcher reads it right before every free-form send.
   */
  @EventPattern(Topics.inboundMessage.name)
  async recordInbound(@Payload() message: InboundMessageV1): Promise<void> {
    const citizen = citizenKeyOf(message.contact);
    if (!citizen) return;
    // GREATEST: webhooks arrive out of order; an older message must not shorten the window.
    await this.dataSource.query(
      `INSERT INTO gateway.contact_window (tenant_id, citizen_key, phone_number_id, last_inbound_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, citizen_key, phone_number_id)
       DO UPDATE SET last_inbound_at = GREATEST(contact_window.last_inbound_at, EXCLUDED.last_inbound_at)`,
      [message.tenantId, citizen, message.phoneNumberId, message.sentAt],
    );
  }
}
