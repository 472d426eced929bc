import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { citizenKeyOf, Topics, type InboundMessageV1 } from '@wa/contracts';

@Controller()
export class ContactConsumer {
  constructor(private readonly dataSource: DataSource) {}

  /** Remembers each citizen who writes (name, last message) for conversations and language choice. */
  @EventPattern(Topics.inboundMessage.name)
  async recordContact(@Payload() message: InboundMessageV1): Promise<void> {
    const citizen = citizenKeyOf(message.contact);
    if (!citizen) return;
    await this.dataSource.query(
      `INSERT INTO chatbot.contact (tenant_id, citizen_key, profile_name, last_message_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, citizen_key) DO UPDATE SET profile_name = COALESCE(EXCLUDED.profile_name, contact.profile_name),
         last_message_at = GREATEST(contact.last_message_at, EXCLUDED.last_message_at)`,
      [message.tenantId, citizen, message.contact.profileName ?? null, message.sentAt],
    );
  }
}
