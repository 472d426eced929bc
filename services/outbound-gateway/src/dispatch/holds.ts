import type { EntityManager } from 'typeorm';
import type { DataSource } from 'typeorm';
import { rows as sql } from '../db';

export interface HoldRow {
  scope: 'tenant' | 'phone';
  scope_id: string;
  reason: string;
  code: number | null;
  until: Date;
  bulk_only: boolean;
  token_fingerprint: string | null;
  detail: string | null;
}

/** What a number's dispatcher may do now. */
export interface Gate {
  /** Nothing may be sent (an active hold). */
  blocked: boolean;
  /** A hold has run out: send one message to find out whether the problem is gone. */
  probe: boolean;
  /** 0 = replies only (a bulk-only hold), 2 = everything. */
  priorityCap: number;
  holds: HoldRow[];
}

/**
 * Holds stop sending for a tenant (bad token, blocked account, app rate limit) or a number
 * (maintenance, spam limit), shared by all replicas through the table. A hold does not retry
 * forever: when it runs out one probe message goes; success lifts it, the same error renews it.
 * An auth hold also lifts as soon as the tenant's token changes (a rotated Secret).
 */
export class HoldBook {
  private holds: HoldRow[] = [];

  async refresh(dataSource: DataSource): Promise<HoldRow[]> {
    this.holds = await dataSource.query(
      `SELECT scope, scope_id, reason, code, until, bulk_only, token_fingerprint, detail FROM gateway.hold`,
    );
    return this.holds;
  }

  all(): HoldRow[] {
    return this.holds;
  }

  /** This replica stops at once (the others on their next refresh, within a second). */
  placeLocal(hold: HoldRow): void {
    this.holds = [...this.holds.filter((h) => !(h.scope === hold.scope && h.scope_id === hold.scope_id && h.reason === hold.reason)), hold];
  }

  gate(tenantId: string, phoneNumberId: string, now = Date.now()): Gate {
    const mine = this.holds.filter(
      (h) => (h.scope === 'tenant' && h.scope_id === tenantId) || (h.scope === 'phone' && h.scope_id === phoneNumberId),
    );
    const active = mine.filter((h) => new Date(h.until).getTime() > now);
    const blocking = active.filter((h) => !h.bulk_only);
    if (blocking.length) return { blocked: true, probe: false, priorityCap: 2, holds: mine };
    return {
      blocked: false,
      probe: mine.length > active.length,
      priorityCap: active.length ? 0 : 2,
      holds: mine,
    };
  }

  static async place(
    manager: EntityManager,
    hold: {
      scope: 'tenant' | 'phone';
      scopeId: string;
      reason: string;
      code?: number;
      holdMs: number;
      bulkOnly: boolean;
      fingerprint?: string;
      detail?: string;
    },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO gateway.hold (scope, scope_id, reason, code, until, bulk_only, token_fingerprint, detail)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::float8 / 1000), $6, $7, $8)
       ON CONFLICT (scope, scope_id, reason) DO UPDATE
       SET code = EXCLUDED.code, until = EXCLUDED.until, bulk_only = EXCLUDED.bulk_only,
           token_fingerprint = EXCLUDED.token_fingerprint, detail = EXCLUDED.detail`,
      [hold.scope, hold.scopeId, hold.reason, hold.code ?? null, hold.holdMs, hold.bulkOnly, hold.fingerprint ?? null, hold.detail ?? null],
    );
  }

  /** A probe got through: the run-out holds of this tenant and number are over. */
  static async liftExpired(manager: EntityManager, tenantId: string, phoneNumberId: string): Promise<number> {
    const lifted = await sql(
      manager,
      `DELETE FROM gateway.hold WHERE until <= now() AND ((scope = 'tenant' AND scope_id = $1) OR (scope = 'phone' AND scope_id = $2)) RETURNING 1`,
      [tenantId, phoneNumberId],
    );
    return lifted.length;
  }

  static async lift(dataSource: DataSource, scope: string, scopeId: string, reason: string): Promise<void> {
    await dataSource.query(`DELETE FROM gateway.hold WHERE scope = $1 AND scope_id = $2 AND reason = $3`, [scope, scopeId, reason]);
  }
}
