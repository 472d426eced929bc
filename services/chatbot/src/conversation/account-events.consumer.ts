import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { Topics, type AccountEventV1, type CitizenConsentV1 } from '@wa/contracts';
import { Outbox, processOnce, type KafkaEventContext } from '@wa/kafka';

/**
 * Meta's user preferences: a citizen who stops (or resumes) marketing messages in WhatsApp's own
 * menu. Published as `citizen.consent.v1` for category `marketing`, so the gateway and the
 * scheduler honour it like a keyword.
 */
@Controller()
export class AccountEventsConsumer {
  private readonly log = new Logger('UserPreferences');

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  @EventPattern(Topics.accountEvent.name)
  async onAccountEvent(@Payload() event: AccountEventV1, @Ctx() context: KafkaEventContext): Promise<void> {
    if (event.kind !== 'user_preference') return;
    const consent = userPreferenceConsent(event);
    if (!consent) {
      this.log.warn({ tenant: event.tenantId, value: event.event, category: event.reason }, 'user preference not understood; ignored');
      return;
    }
    await processOnce(this.dataSource, 'chatbot.user-preference', context.envelope.id, async (manager) => {
      await this.outbox.add(manager, Topics.citizenConsent, consent);
    });
  }
}

/** The consent a user_preferences item means, or undefined (another category, an unknown value, no citizen). */
export function userPreferenceConsent(event: AccountEventV1): CitizenConsentV1 | undefined {
  const d = event.details as { wa_id?: unknown; user_id?: unknown; category?: unknown; value?: unknown };
  const category = String(d.category ?? event.reason ?? '');
  const value = String(d.value ?? event.event ?? '').toLowerCase();
  if (!/marketing/.test(category) || !['stop', 'resume'].includes(value)) return undefined;
  const waId = typeof d.wa_id === 'string' && d.wa_id ? d.wa_id : undefined;
  const bsuid = typeof d.user_id === 'string' && d.user_id ? d.user_id : undefined;
  if (!waId && !bsuid) return undefined;
  return {
    tenantId: event.tenantId,
    contact: { ...(waId ? { waId } : {}), ...(bsuid ? { bsuid } : {}) },
    category: 'marketing',
    state: value === 'stop' ? 'opted_out' : 'opted_in',
    channel: 'meta-user-preferences',
    occurredAt: event.occurredAt,
    evidence: { source: 'meta_user_preferences', keyword: value, at: event.occurredAt },
  };
}
