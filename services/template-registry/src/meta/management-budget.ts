import { DataSource } from 'typeorm';
import { counter } from '@wa/observability';

export type CallKind = 'create' | 'edit' | 'list' | 'delete';

export type BudgetDecision = { ok: true } | { ok: false; retryAt: Date; limit: 'calls' | 'creates' };

const refused = counter('templates_management_budget_refusals_total', 'Management API calls deferred by the per-WABA budget', ['kind']);
const granted = counter('templates_management_calls_total', 'Management API calls made, by kind', ['kind']);

/**
 * Meta limits management calls per app and WABA per rolling hour (200, or 5,000 for active WABAs)
 * and template creations to 100 per WABA per hour. This budget counts our own calls in Postgres,
 * serialised per WABA with an advisory lock, so every replica of the registry shares one budget.
 * A granted call is counted even if it then fails: Meta counts it too.
 */
export class ManagementBudget {
  private grants = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly callsPerHour: number,
    private readonly createsPerHour: number,
  ) {}

  async acquire(wabaId: string, kind: CallKind): Promise<BudgetDecision> {
    const decision = await this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`templates.management:${wabaId}`]);
      const [row] = (await manager.query(
        `SELECT count(*)::int AS calls, count(*) FILTER (WHERE kind = 'create')::int AS creates
           FROM templates.management_call
          WHERE waba_id = $1 AND called_at > now() - interval '1 hour'`,
        [wabaId],
      )) as { calls: number; creates: number }[];
      // A slot frees an hour after the call that pushed the window over the limit.
      const freesAt = async (used: number, limit: number, onlyCreates: boolean) => {
        const [oldest] = (await manager.query(
          `SELECT called_at FROM templates.management_call
            WHERE waba_id = $1 AND called_at > now() - interval '1 hour' ${onlyCreates ? "AND kind = 'create'" : ''}
            ORDER BY called_at OFFSET $2 LIMIT 1`,
          [wabaId, used - limit],
        )) as { called_at: Date }[];
        return new Date((oldest ? new Date(oldest.called_at).getTime() : Date.now()) + 60 * 60 * 1000);
      };
      if (row.calls >= this.callsPerHour) {
        return { ok: false as const, limit: 'calls' as const, retryAt: await freesAt(row.calls, this.callsPerHour, false) };
      }
      if (kind === 'create' && row.creates >= this.createsPerHour) {
        return { ok: false as const, limit: 'creates' as const, retryAt: await freesAt(row.creates, this.createsPerHour, true) };
      }
      await manager.query(`INSERT INTO templates.management_call (waba_id, kind, called_at) VALUES ($1, $2, now())`, [wabaId, kind]);
      return { ok: true as const };
    });
    if (decision.ok) {
      granted.inc({ kind });
      // The window is an hour; older rows only slow the count down.
      if (++this.grants % 100 === 0) {
        await this.dataSource.query(`DELETE FROM templates.management_call WHERE called_at < now() - interval '2 hours'`);
      }
    } else refused.inc({ kind });
    return decision;
  }
}
