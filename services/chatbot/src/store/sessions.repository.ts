import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { TranscriptLine } from '@wa/contracts';
import type { Session } from '../flows/flow.types';

export interface SessionRow {
  tenantId: string;
  citizenKey: string;
  flow: string;
  version: number;
  state: Session;
  transcript: TranscriptLine[];
  startedAt: Date;
  updatedAt: Date;
  expiresAt: Date;
  timeoutAt: Date | null;
}

const COLUMNS = `tenant_id AS "tenantId", citizen_key AS "citizenKey", flow, version, state, transcript,
  started_at AS "startedAt", updated_at AS "updatedAt", expires_at AS "expiresAt", timeout_at AS "timeoutAt"`;

/** `chatbot.session`: one running flow per citizen. */
@Injectable()
export class SessionRepository {
  /** The citizen's session, locked for the turn. */
  async lock(manager: EntityManager, tenantId: string, citizenKey: string): Promise<SessionRow | undefined> {
    const rows: SessionRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM chatbot.session WHERE tenant_id = $1 AND citizen_key = $2 FOR UPDATE`,
      [tenantId, citizenKey],
    );
    return rows[0];
  }

  async save(manager: EntityManager, row: Omit<SessionRow, 'startedAt' | 'updatedAt'>, now: Date): Promise<void> {
    await manager.query(
      `INSERT INTO chatbot.session (tenant_id, citizen_key, flow, version, state, transcript, started_at, updated_at, expires_at, timeout_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)
       ON CONFLICT (tenant_id, citizen_key) DO UPDATE SET flow = EXCLUDED.flow, version = EXCLUDED.version, state = EXCLUDED.state,
         transcript = EXCLUDED.transcript, updated_at = EXCLUDED.updated_at, expires_at = EXCLUDED.expires_at, timeout_at = EXCLUDED.timeout_at`,
      [
        row.tenantId,
        row.citizenKey,
        row.flow,
        row.version,
        JSON.stringify(row.state),
        JSON.stringify(row.transcript),
        now,
        row.expiresAt,
        row.timeoutAt,
      ],
    );
  }

  /** Clears a timeout that is still due after its turn (the flow no longer waits on it), so it is not swept again. */
  async clearDueTimeout(manager: EntityManager, tenantId: string, citizenKey: string, now: Date): Promise<void> {
    await manager.query(`UPDATE chatbot.session SET timeout_at = NULL WHERE tenant_id = $1 AND citizen_key = $2 AND timeout_at <= $3`, [
      tenantId,
      citizenKey,
      now,
    ]);
  }

  async delete(manager: EntityManager, tenantId: string, citizenKey: string): Promise<void> {
    await manager.query(`DELETE FROM chatbot.session WHERE tenant_id = $1 AND citizen_key = $2`, [tenantId, citizenKey]);
  }

  /**
   * Sessions whose question timed out or that sat idle past their expiry, locked; rows another
   * replica holds are skipped, so sweepers never work on the same session.
   */
  async claimDue(manager: EntityManager, now: Date, limit: number): Promise<SessionRow[]> {
    return manager.query(
      `SELECT ${COLUMNS} FROM chatbot.session
       WHERE timeout_at <= $1 OR expires_at <= $1
       ORDER BY LEAST(COALESCE(timeout_at, expires_at), expires_at) LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, limit],
    );
  }
}
