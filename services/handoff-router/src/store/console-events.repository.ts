import { returning } from './sql';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * Who sees a console event: `agentId` set → that agent (and supervisors); only `department` set →
 * the department's agents (and supervisors); neither → supervisors only.
 */
export interface ConsoleEventInput {
  type: string;
  agentId?: string | null;
  department?: string | null;
  conversationId?: string | null;
  data: Record<string, unknown>;
}

export interface ConsoleEvent extends ConsoleEventInput {
  tenantId: string;
  seq: number;
  at: Date;
}

export const CONSOLE_CHANNEL = 'handoff_console';

/**
 * `handoff.console_event`: the durable, per-tenant event log behind the console's event streams.
 * Sequence numbers come from the tenant's row in `console_cursor`, locked until the writing
 * transaction commits: a tenant's events therefore commit in sequence order, so a reader that saw
 * seq n has seen everything before it, and `Last-Event-ID` resumes exactly. NOTIFY is
 * transactional: replicas hear of events only once they are committed.
 */
@Injectable()
export class ConsoleEventRepository {
  async append(m: EntityManager, tenantId: string, events: ConsoleEventInput[]): Promise<void> {
    if (events.length === 0) return;
    const [cursor]: { last: string }[] = await m.query(
      `INSERT INTO handoff.console_cursor (tenant_id, last_seq) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET last_seq = console_cursor.last_seq + $2 RETURNING last_seq AS last`,
      [tenantId, events.length],
    );
    const first = Number(cursor.last) - events.length + 1;
    await m.query(
      `INSERT INTO handoff.console_event (tenant_id, seq, type, agent_id, department, conversation_id, data)
       SELECT $1, $2::bigint + ord - 1, type, "agentId", department, "conversationId", data
         FROM ROWS FROM (jsonb_to_recordset($3::jsonb) AS (type text, "agentId" text, department text, "conversationId" text, data jsonb))
              WITH ORDINALITY AS r(type, "agentId", department, "conversationId", data, ord)`,
      [
        tenantId,
        first,
        JSON.stringify(
          events.map((e) => ({
            type: e.type,
            agentId: e.agentId ?? null,
            department: e.department ?? null,
            conversationId: e.conversationId ?? null,
            data: e.data,
          })),
        ),
      ],
    );
    await m.query(`SELECT pg_notify($1, $2)`, [CONSOLE_CHANNEL, tenantId]);
  }

  async after(m: EntityManager, tenantId: string, seq: number, limit = 500): Promise<ConsoleEvent[]> {
    const rows: (Omit<ConsoleEvent, 'seq'> & { seq: string })[] = await m.query(
      `SELECT tenant_id AS "tenantId", seq, type, agent_id AS "agentId", department, conversation_id AS "conversationId", data, at
         FROM handoff.console_event WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [tenantId, seq, limit],
    );
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  async last(m: EntityManager, tenantId: string): Promise<number> {
    const rows: { last: string }[] = await m.query(`SELECT last_seq AS last FROM handoff.console_cursor WHERE tenant_id = $1`, [tenantId]);
    return rows[0] ? Number(rows[0].last) : 0;
  }

  async purgeBefore(m: EntityManager, tenantId: string, before: Date): Promise<void> {
    await returning(m, `DELETE FROM handoff.console_event WHERE tenant_id = $1 AND at < $2`, [tenantId, before]);
  }
}
