import { returning } from './sql';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ContactRef, DeflectionOutcome } from '@wa/contracts';

export interface DeflectionRow {
  tenantId: string;
  callId: string;
  citizenKey: string;
  contact: ContactRef;
  department: string;
  language: string;
  priority: number;
  requestId: string;
  wamid: string | null;
  status: 'pending' | DeflectionOutcome;
  detail: string | null;
  errorCode: number | null;
  requestedAt: Date;
  deadlineAt: Date;
  decidedAt: Date | null;
  engagedConversationId: string | null;
}

const COLUMNS = `tenant_id AS "tenantId", call_id AS "callId", citizen_key AS "citizenKey", contact, department, language, priority,
  request_id AS "requestId", wamid, status, detail, error_code AS "errorCode", requested_at AS "requestedAt", deadline_at AS "deadlineAt",
  decided_at AS "decidedAt", engaged_conversation_id AS "engagedConversationId"`;

/** `handoff.deflection`: callers offered to continue on WhatsApp, and what came of it. */
@Injectable()
export class DeflectionRepository {
  /** One deflection per call: a repeated ask returns the first (created=false). */
  async create(
    m: EntityManager,
    d: Omit<DeflectionRow, 'wamid' | 'status' | 'detail' | 'errorCode' | 'decidedAt' | 'engagedConversationId'>,
  ) {
    const rows: DeflectionRow[] = await m.query(
      `INSERT INTO handoff.deflection (tenant_id, call_id, citizen_key, contact, department, language, priority, request_id, status,
         requested_at, deadline_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10) ON CONFLICT (tenant_id, call_id) DO NOTHING RETURNING ${COLUMNS}`,
      [
        d.tenantId,
        d.callId,
        d.citizenKey,
        JSON.stringify(d.contact),
        d.department,
        d.language,
        d.priority,
        d.requestId,
        d.requestedAt,
        d.deadlineAt,
      ],
    );
    if (rows[0]) return { row: rows[0], created: true };
    return { row: (await this.get(m, d.tenantId, d.callId))!, created: false };
  }

  async get(m: EntityManager, tenantId: string, callId: string): Promise<DeflectionRow | undefined> {
    const rows: DeflectionRow[] = await m.query(`SELECT ${COLUMNS} FROM handoff.deflection WHERE tenant_id = $1 AND call_id = $2`, [
      tenantId,
      callId,
    ]);
    return rows[0];
  }

  async byRequest(m: EntityManager, requestId: string): Promise<DeflectionRow | undefined> {
    const rows: DeflectionRow[] = await m.query(`SELECT ${COLUMNS} FROM handoff.deflection WHERE request_id = $1 FOR UPDATE`, [requestId]);
    return rows[0];
  }

  async byWamid(m: EntityManager, tenantId: string, wamid: string): Promise<DeflectionRow | undefined> {
    const rows: DeflectionRow[] = await m.query(
      `SELECT ${COLUMNS} FROM handoff.deflection WHERE tenant_id = $1 AND wamid = $2 FOR UPDATE`,
      [tenantId, wamid],
    );
    return rows[0];
  }

  async setWamid(m: EntityManager, tenantId: string, callId: string, wamid: string): Promise<void> {
    await returning(m, `UPDATE handoff.deflection SET wamid = $3 WHERE tenant_id = $1 AND call_id = $2`, [tenantId, callId, wamid]);
  }

  /** Decides a pending deflection once; false when it was decided already. */
  async decide(
    m: EntityManager,
    tenantId: string,
    callId: string,
    d: { outcome: DeflectionOutcome; detail: string; errorCode?: number },
    now: Date,
  ): Promise<boolean> {
    const rows: unknown[] = await returning(
      m,
      `UPDATE handoff.deflection SET status = $3, detail = $4, error_code = $5, decided_at = $6
        WHERE tenant_id = $1 AND call_id = $2 AND status = 'pending' RETURNING 1`,
      [tenantId, callId, d.outcome, d.detail, d.errorCode ?? null, now],
    );
    return rows.length > 0;
  }

  /** The citizen's latest offer not yet answered, within the reply window. */
  async awaitingReply(m: EntityManager, tenantId: string, citizenKey: string, offeredAfter: Date): Promise<DeflectionRow | undefined> {
    const rows: DeflectionRow[] = await m.query(
      `SELECT ${COLUMNS} FROM handoff.deflection
        WHERE tenant_id = $1 AND citizen_key = $2 AND engaged_conversation_id IS NULL AND status IN ('pending', 'offered')
          AND requested_at > $3 ORDER BY requested_at DESC LIMIT 1 FOR UPDATE`,
      [tenantId, citizenKey, offeredAfter],
    );
    return rows[0];
  }

  async engage(m: EntityManager, tenantId: string, callId: string, conversationId: string): Promise<void> {
    await returning(m, `UPDATE handoff.deflection SET engaged_conversation_id = $3 WHERE tenant_id = $1 AND call_id = $2`, [
      tenantId,
      callId,
      conversationId,
    ]);
  }

  async dueOne(m: EntityManager, now: Date): Promise<DeflectionRow | undefined> {
    const rows: DeflectionRow[] = await m.query(
      `SELECT ${COLUMNS} FROM handoff.deflection WHERE status = 'pending' AND deadline_at <= $1 LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [now],
    );
    return rows[0];
  }
}
