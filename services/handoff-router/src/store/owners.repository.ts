import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { OwnerSnapshot } from '@wa/conversation';

/** `handoff.conversation_owner`: who answers each citizen, folded from conversation.owner.v1 as the chatbot does. */
@Injectable()
export class OwnerRepository {
  async lock(m: EntityManager, tenantId: string, citizenKey: string): Promise<OwnerSnapshot | undefined> {
    const rows: (Omit<OwnerSnapshot, 'since'> & { since: Date })[] = await m.query(
      `SELECT owner, conversation_id AS "conversationId", agent_id AS "agentId", department, since
         FROM handoff.conversation_owner WHERE tenant_id = $1 AND citizen_key = $2 FOR UPDATE`,
      [tenantId, citizenKey],
    );
    const row = rows[0];
    return row && { ...row, since: new Date(row.since).toISOString() };
  }

  async save(m: EntityManager, tenantId: string, citizenKey: string, s: OwnerSnapshot): Promise<void> {
    await m.query(
      `INSERT INTO handoff.conversation_owner (tenant_id, citizen_key, owner, conversation_id, agent_id, department, since)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (tenant_id, citizen_key) DO UPDATE SET owner = EXCLUDED.owner, conversation_id = EXCLUDED.conversation_id,
         agent_id = EXCLUDED.agent_id, department = EXCLUDED.department, since = EXCLUDED.since`,
      [tenantId, citizenKey, s.owner, s.conversationId, s.agentId, s.department, s.since],
    );
  }
}
