import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ContactRef } from '@wa/contracts';

export interface CitizenProfile {
  tenantId: string;
  citizenKey: string;
  contact: ContactRef;
  profileName: string | null;
  language: string | null;
  languageChosenAt: Date | null;
  phoneNumberId: string | null;
  lastInboundAt: Date;
  lastMessageId: string;
}

const COLUMNS = `tenant_id AS "tenantId", citizen_key AS "citizenKey", contact, profile_name AS "profileName", language,
  language_chosen_at AS "languageChosenAt", phone_number_id AS "phoneNumberId", last_inbound_at AS "lastInboundAt",
  last_message_id AS "lastMessageId"`;

/** `chatbot.citizen_profile`: how to reach a citizen, the language they chose, their last message. */
@Injectable()
export class ProfileRepository {
  /**
   * Records a citizen message and returns the profile, locked for the turn. The newest message
   * wins (a late redelivery cannot move the window back).
   */
  async recordInbound(
    manager: EntityManager,
    p: {
      tenantId: string;
      citizenKey: string;
      contact: ContactRef;
      profileName?: string;
      phoneNumberId: string;
      at: Date;
      messageId: string;
    },
  ): Promise<CitizenProfile> {
    const rows: CitizenProfile[] = await manager.query(
      `INSERT INTO chatbot.citizen_profile AS p (tenant_id, citizen_key, contact, profile_name, phone_number_id, last_inbound_at, last_message_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (tenant_id, citizen_key) DO UPDATE SET
         contact = CASE WHEN EXCLUDED.last_inbound_at >= p.last_inbound_at THEN EXCLUDED.contact ELSE p.contact END,
         profile_name = COALESCE(EXCLUDED.profile_name, p.profile_name),
         phone_number_id = CASE WHEN EXCLUDED.last_inbound_at >= p.last_inbound_at THEN EXCLUDED.phone_number_id ELSE p.phone_number_id END,
         last_message_id = CASE WHEN EXCLUDED.last_inbound_at >= p.last_inbound_at THEN EXCLUDED.last_message_id ELSE p.last_message_id END,
         last_inbound_at = GREATEST(p.last_inbound_at, EXCLUDED.last_inbound_at),
         updated_at = now()
       RETURNING ${COLUMNS}`,
      [p.tenantId, p.citizenKey, JSON.stringify(p.contact), p.profileName ?? null, p.phoneNumberId, p.at, p.messageId],
    );
    return rows[0];
  }

  async get(manager: EntityManager, tenantId: string, citizenKey: string): Promise<CitizenProfile | undefined> {
    const rows: CitizenProfile[] = await manager.query(
      `SELECT ${COLUMNS} FROM chatbot.citizen_profile WHERE tenant_id = $1 AND citizen_key = $2`,
      [tenantId, citizenKey],
    );
    return rows[0];
  }

  async setLanguage(manager: EntityManager, tenantId: string, citizenKey: string, language: string, at: Date): Promise<void> {
    await manager.query(
      `UPDATE chatbot.citizen_profile SET language = $3, language_chosen_at = $4, updated_at = now() WHERE tenant_id = $1 AND citizen_key = $2`,
      [tenantId, citizenKey, language, at],
    );
  }
}
