import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { OwnerSnapshot } from '@wa/conversation';

/** `chatbot.conversation_owner`: who answers each citizen, folded from `conversation.owner.v1`. */
@Injectable()
export class OwnerRepository {
  /** The folded state (undefined: never handed off, the bot answers), locked for the transaction. */
  async lock(manager: EntityManager, tenantId: string, citizenKey: string): Promise<OwnerSnapshot | undefined> {
    const rows: {
      owner: OwnerSnapshot['owner'];
      conversationId: string | null;
      agentId: string | null;
      department: string | null;
      since: Date;
    }[] = await manager.query(
      `SELECT owner, conversation_id AS "conversationId", agent_id AS "agentId", department, since
         FROM chatbot.conversation_owner WHERE tenant_id = $1 AND citizen_key = $2 FOR UPDATE`,
      [tenantId, citizenKey],
    );
    const row = rows[0];
    return row && { ...row, since: new Date(row.since).toISOString() };
  }

  async save(manager: EntityManager, tenantId: string, citizenKey: string, state: OwnerSnapshot): Promise<void> {
    await manager.query(
      `INSERT INTO chatbot.conversation_owner (tenant_id, citizen_key, owner, conversation_id, agent_id, department, since, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now())
       ON CONFLICT (tenant_id, citizen_key) DO UPDATE SET owner = EXCLUDED.owner, conversation_id = EXCLUDED.conversation_id,
         agent_id = EXCLUDED.agent_id, department = EXCLUDED.department, since = EXCLUDED.since, updated_at = now()`,
      [tenantId, citizenKey, state.owner, state.conversationId, state.agentId, state.department, state.since],
    );
  }
}
