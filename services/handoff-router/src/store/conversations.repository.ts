import { returning } from './sql';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ContactRef } from '@wa/contracts';
import type { QueuedConversation } from '../rules/assignment';

export type ConversationState = 'queued' | 'assigned' | 'survey' | 'closed';

export interface ConversationRow {
  tenantId: string;
  id: string;
  citizenKey: string;
  contact: ContactRef;
  phoneNumberId: string | null;
  department: string;
  language: string;
  reason: string;
  priority: number;
  state: ConversationState;
  agentId: string | null;
  requestedAt: Date;
  queuedAt: Date;
  assignedAt: Date | null;
  closedAt: Date | null;
  closeReason: string | null;
  lastInboundAt: Date | null;
  widenLanguages: boolean;
  widenDepartments: string[];
  slaAlertedAt: Date | null;
  positionSent: number | null;
  positionSentAt: Date | null;
  reengagedAt: Date | null;
  surveyAskedAt: Date | null;
  rating: number | null;
  callId: string | null;
}

export const CONVERSATION_COLUMNS = `tenant_id AS "tenantId", id, citizen_key AS "citizenKey", contact, phone_number_id AS "phoneNumberId",
  department, language, reason, priority, state, agent_id AS "agentId", requested_at AS "requestedAt", queued_at AS "queuedAt",
  assigned_at AS "assignedAt", closed_at AS "closedAt", close_reason AS "closeReason", last_inbound_at AS "lastInboundAt",
  widen_languages AS "widenLanguages", widen_departments AS "widenDepartments", sla_alerted_at AS "slaAlertedAt",
  position_sent AS "positionSent", position_sent_at AS "positionSentAt", reengaged_at AS "reengagedAt",
  survey_asked_at AS "surveyAskedAt", rating, call_id AS "callId"`;

export interface NewConversation {
  tenantId: string;
  id: string;
  citizenKey: string;
  contact: ContactRef;
  phoneNumberId?: string;
  department: string;
  language: string;
  reason: string;
  priority: number;
  requestedAt: Date;
  lastInboundAt: Date | null;
  callId?: string;
}

/** `handoff.conversation`: one handoff episode, from the request to its close. */
@Injectable()
export class ConversationRepository {
  /** Creates the episode once (a redelivered request changes nothing); true when created. */
  async create(m: EntityManager, c: NewConversation, now: Date): Promise<boolean> {
    const rows: unknown[] = await m.query(
      `INSERT INTO handoff.conversation (tenant_id, id, citizen_key, contact, phone_number_id, department, language, reason, priority,
         state, requested_at, queued_at, last_inbound_at, call_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10, $11, $12, $13)
       ON CONFLICT (tenant_id, id) DO NOTHING RETURNING 1`,
      [
        c.tenantId,
        c.id,
        c.citizenKey,
        JSON.stringify(c.contact),
        c.phoneNumberId ?? null,
        c.department,
        c.language,
        c.reason,
        c.priority,
        c.requestedAt,
        now,
        c.lastInboundAt,
        c.callId ?? null,
      ],
    );
    return rows.length > 0;
  }

  async get(m: EntityManager, tenantId: string, id: string, lock = false): Promise<ConversationRow | undefined> {
    const rows: ConversationRow[] = await m.query(
      `SELECT ${CONVERSATION_COLUMNS} FROM handoff.conversation WHERE tenant_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`,
      [tenantId, id],
    );
    return rows[0];
  }

  /** The citizen's open episode (queued, with an agent, or in the survey), if any. */
  async openOf(m: EntityManager, tenantId: string, citizenKey: string): Promise<ConversationRow | undefined> {
    const rows: ConversationRow[] = await m.query(
      `SELECT ${CONVERSATION_COLUMNS} FROM handoff.conversation WHERE tenant_id = $1 AND citizen_key = $2 AND state <> 'closed'
        ORDER BY queued_at DESC LIMIT 1 FOR UPDATE`,
      [tenantId, citizenKey],
    );
    return rows[0];
  }

  async list(
    m: EntityManager,
    tenantId: string,
    filter: {
      states?: string[];
      agentId?: string;
      departments?: string[];
      visibleTo?: { agentId: string; departments: string[] };
      limit: number;
    },
  ): Promise<ConversationRow[]> {
    return m.query(
      `SELECT ${CONVERSATION_COLUMNS} FROM handoff.conversation
        WHERE tenant_id = $1
          AND ($2::text[] IS NULL OR state = ANY($2))
          AND ($3::text IS NULL OR agent_id = $3)
          AND ($4::text[] IS NULL OR department = ANY($4))
          AND ($5::text IS NULL OR agent_id = $5 OR (state = 'queued' AND (department = ANY($6) OR widen_departments && $6)))
        ORDER BY (state = 'queued') DESC, priority DESC, queued_at LIMIT $7`,
      [
        tenantId,
        filter.states ?? null,
        filter.agentId ?? null,
        filter.departments ?? null,
        filter.visibleTo?.agentId ?? null,
        filter.visibleTo?.departments ?? [],
        filter.limit,
      ],
    );
  }

  /** The tenant's queue, for one assignment pass (the caller holds the tenant's assignment lock). */
  async queue(
    m: EntityManager,
    tenantId: string,
    limit = 1000,
  ): Promise<(QueuedConversation & { positionSent: number | null; positionSentAt: Date | null; lastInboundAt: Date | null })[]> {
    return m.query(
      `SELECT id, department, language, priority, queued_at AS "queuedAt", widen_languages AS "widenLanguages",
              widen_departments AS "widenDepartments", position_sent AS "positionSent", position_sent_at AS "positionSentAt",
              last_inbound_at AS "lastInboundAt"
         FROM handoff.conversation WHERE tenant_id = $1 AND state = 'queued' ORDER BY priority DESC, queued_at LIMIT $2`,
      [tenantId, limit],
    );
  }

  async queuedCount(m: EntityManager, tenantId: string, department: string): Promise<number> {
    const [row]: { n: number }[] = await m.query(
      `SELECT count(*)::int AS n FROM handoff.conversation WHERE tenant_id = $1 AND department = $2 AND state = 'queued'`,
      [tenantId, department],
    );
    return row.n;
  }

  /** The claim: only a queued conversation can be assigned, so two claims never both win. */
  async claim(m: EntityManager, tenantId: string, id: string, agentId: string, now: Date): Promise<ConversationRow | undefined> {
    const rows: ConversationRow[] = await returning(
      m,
      `UPDATE handoff.conversation SET state = 'assigned', agent_id = $3, assigned_at = $4
        WHERE tenant_id = $1 AND id = $2 AND state = 'queued' RETURNING ${CONVERSATION_COLUMNS}`,
      [tenantId, id, agentId, now],
    );
    return rows[0];
  }

  /** Back to the queue, keeping its original place (queued_at) and priority. */
  async requeue(m: EntityManager, tenantId: string, id: string, department?: string): Promise<ConversationRow | undefined> {
    const rows: ConversationRow[] = await returning(
      m,
      `UPDATE handoff.conversation SET state = 'queued', agent_id = NULL, assigned_at = NULL, department = coalesce($3, department),
              sla_alerted_at = CASE WHEN $3::text IS NULL THEN sla_alerted_at END, position_sent = NULL
        WHERE tenant_id = $1 AND id = $2 AND state = 'assigned' RETURNING ${CONVERSATION_COLUMNS}`,
      [tenantId, id, department ?? null],
    );
    return rows[0];
  }

  async reassign(m: EntityManager, tenantId: string, id: string, agentId: string, now: Date): Promise<ConversationRow | undefined> {
    const rows: ConversationRow[] = await returning(
      m,
      `UPDATE handoff.conversation SET state = 'assigned', agent_id = $3, assigned_at = $4
        WHERE tenant_id = $1 AND id = $2 AND state IN ('assigned', 'queued') RETURNING ${CONVERSATION_COLUMNS}`,
      [tenantId, id, agentId, now],
    );
    return rows[0];
  }

  async assignedTo(m: EntityManager, tenantId: string, agentId: string): Promise<ConversationRow[]> {
    return m.query(
      `SELECT ${CONVERSATION_COLUMNS} FROM handoff.conversation WHERE tenant_id = $1 AND agent_id = $2 AND state = 'assigned' FOR UPDATE`,
      [tenantId, agentId],
    );
  }

  async startSurvey(m: EntityManager, tenantId: string, id: string, now: Date): Promise<void> {
    await returning(m, `UPDATE handoff.conversation SET state = 'survey', survey_asked_at = $3 WHERE tenant_id = $1 AND id = $2`, [
      tenantId,
      id,
      now,
    ]);
  }

  async close(m: EntityManager, tenantId: string, id: string, reason: string, now: Date, rating?: number): Promise<boolean> {
    const rows: unknown[] = await returning(
      m,
      `UPDATE handoff.conversation SET state = 'closed', closed_at = $4, close_reason = $3, rating = coalesce($5, rating)
        WHERE tenant_id = $1 AND id = $2 AND state <> 'closed' RETURNING 1`,
      [tenantId, id, reason, now, rating ?? null],
    );
    return rows.length > 0;
  }

  async touchInbound(m: EntityManager, tenantId: string, id: string, at: Date): Promise<void> {
    await returning(
      m,
      `UPDATE handoff.conversation SET last_inbound_at = greatest(coalesce(last_inbound_at, $3), $3) WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, at],
    );
  }

  async markReengaged(m: EntityManager, tenantId: string, id: string, at: Date): Promise<void> {
    await returning(m, `UPDATE handoff.conversation SET reengaged_at = $3 WHERE tenant_id = $1 AND id = $2`, [tenantId, id, at]);
  }

  async markPosition(m: EntityManager, tenantId: string, id: string, position: number, at: Date): Promise<void> {
    await returning(m, `UPDATE handoff.conversation SET position_sent = $3, position_sent_at = $4 WHERE tenant_id = $1 AND id = $2`, [
      tenantId,
      id,
      position,
      at,
    ]);
  }

  async widen(m: EntityManager, tenantId: string, id: string, languages: boolean, departments: string[], at: Date): Promise<void> {
    await returning(
      m,
      `UPDATE handoff.conversation SET sla_alerted_at = $5, widen_languages = widen_languages OR $3,
              widen_departments = ARRAY(SELECT DISTINCT unnest(widen_departments || $4::text[]))
        WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, languages, departments, at],
    );
  }

  /** Queued conversations past their department's SLA and not yet alerted, one batch (any tenant). */
  async slaDue(
    m: EntityManager,
    now: Date,
    limit = 100,
  ): Promise<(ConversationRow & { slaSeconds: number; widenLanguagesCfg: boolean; widenDepartmentsCfg: string[] })[]> {
    return m.query(
      `SELECT ${CONVERSATION_COLUMNS}, sla AS "slaSeconds", wl AS "widenLanguagesCfg", wd AS "widenDepartmentsCfg" FROM (
         SELECT c.*, d.sla_seconds AS sla, d.widen_languages AS wl, d.widen_departments AS wd
           FROM handoff.conversation c JOIN handoff.department d ON d.tenant_id = c.tenant_id AND d.id = c.department
          WHERE c.state = 'queued' AND c.sla_alerted_at IS NULL AND c.queued_at + make_interval(secs => d.sla_seconds) <= $1
          LIMIT $2 FOR UPDATE OF c SKIP LOCKED) x`,
      [now, limit],
    );
  }

  async surveysDue(m: EntityManager, askedBefore: Date, limit = 100): Promise<ConversationRow[]> {
    return m.query(
      `SELECT ${CONVERSATION_COLUMNS} FROM handoff.conversation WHERE state = 'survey' AND survey_asked_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [askedBefore, limit],
    );
  }

  /** Deletes closed episodes older than their tenant's retention, with their transcripts and events. */
  async purge(m: EntityManager, tenantId: string, closedBefore: Date): Promise<number> {
    const rows: { id: string }[] = await returning(
      m,
      `DELETE FROM handoff.conversation WHERE tenant_id = $1 AND state = 'closed' AND closed_at < $2 RETURNING id`,
      [tenantId, closedBefore],
    );
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    await returning(m, `DELETE FROM handoff.message WHERE tenant_id = $1 AND conversation_id = ANY($2)`, [tenantId, ids]);
    await returning(m, `DELETE FROM handoff.console_event WHERE tenant_id = $1 AND conversation_id = ANY($2)`, [tenantId, ids]);
    return rows.length;
  }

  async tenants(m: EntityManager): Promise<string[]> {
    const rows: { tenantId: string }[] = await m.query(`SELECT DISTINCT tenant_id AS "tenantId" FROM handoff.conversation`);
    return rows.map((r) => r.tenantId);
  }
}
