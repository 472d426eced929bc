import type { DataSource } from 'typeorm';
import { counter } from '@wa/observability';

const prunedRows = counter('retention_pruned_rows_total', 'Rows deleted because they outlived their retention', ['schema', 'table']);

/** Rows per DELETE: small enough that no statement holds its locks for long. */
export const PRUNE_BATCH = 2000;

export interface PruneRule {
  /** Schema-qualified table, e.g. `gateway.outbound_message`. */
  table: string;
  /** An indexed timestamp column: each batch then reads about what it deletes. */
  column: string;
  /** Days rows of this tenant are kept, or for rows of tenants absent from the tenants file (`undefined`). */
  days(tenantId: string | undefined): number;
  /** SQL condition rows must also meet, e.g. that a message reached a final state. */
  where?: string;
  /** The tenant column; `null` for tables that belong to no tenant (the inbox). */
  tenantColumn?: string | null;
}

/**
 * Deletes rows older than `days` in batches of `batch`, counting them in
 * `retention_pruned_rows_total{schema,table}`. `tenantId` scopes the delete to one tenant; with
 * `otherTenants` it covers every tenant not in that list instead.
 */
export async function pruneBatches(
  dataSource: DataSource,
  rule: Pick<PruneRule, 'table' | 'column' | 'where' | 'tenantColumn'>,
  scope: { days: number; tenantId?: string; otherTenants?: string[]; batch?: number },
): Promise<number> {
  const batch = scope.batch ?? PRUNE_BATCH;
  const [schema, table] = rule.table.split('.');
  const tenantColumn = rule.tenantColumn === undefined ? 'tenant_id' : rule.tenantColumn;
  const conditions = [`${rule.column} < now() - make_interval(days => $1)`];
  const params: unknown[] = [scope.days];
  if (tenantColumn && scope.tenantId !== undefined) {
    params.push(scope.tenantId);
    conditions.push(`${tenantColumn} = $${params.length}`);
  } else if (tenantColumn && scope.otherTenants) {
    params.push(scope.otherTenants);
    conditions.push(`${tenantColumn} <> ALL($${params.length}::text[])`);
  }
  if (rule.where) conditions.push(`(${rule.where})`);
  let total = 0;
  for (;;) {
    const [{ n }]: { n: number }[] = await dataSource.query(
      `WITH gone AS (
         DELETE FROM ${rule.table} WHERE ctid IN (SELECT ctid FROM ${rule.table} WHERE ${conditions.join(' AND ')} LIMIT ${batch})
         RETURNING 1
       ) SELECT count(*)::int AS n FROM gone`,
      params,
    );
    total += n;
    if (n > 0) prunedRows.inc({ schema, table }, n);
    if (n < batch) return total;
  }
}

/**
 * Runs `work` in at most one replica at a time: a session advisory lock named after the schema's
 * retention, taken without waiting on a connection held for the run. Returns undefined when another
 * replica holds it (it is doing the same work).
 */
export async function exclusively<T>(dataSource: DataSource, name: string, work: () => Promise<T>): Promise<T | undefined> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const [{ locked }]: { locked: boolean }[] = await runner.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [name]);
    if (!locked) return undefined;
    try {
      return await work();
    } finally {
      await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [name]);
    }
  } finally {
    await runner.release();
  }
}

/**
 * Applies every rule to every tenant in the tenants file with that tenant's days, then once to the
 * rows of tenants no longer in the file with the platform's days, one replica at a time. Returns
 * the rows deleted per table, or undefined when another replica is pruning this schema.
 */
export async function pruneAll(
  dataSource: DataSource,
  schema: string,
  rules: readonly PruneRule[],
  tenantIds: readonly string[],
  batch?: number,
): Promise<Record<string, number> | undefined> {
  return exclusively(dataSource, `retention:${schema}`, async () => {
    const counts: Record<string, number> = {};
    for (const rule of rules) {
      let n = 0;
      if (rule.tenantColumn === null) {
        n += await pruneBatches(dataSource, rule, { days: rule.days(undefined), batch });
      } else {
        for (const tenantId of tenantIds) n += await pruneBatches(dataSource, rule, { days: rule.days(tenantId), tenantId, batch });
        n += await pruneBatches(dataSource, rule, { days: rule.days(undefined), otherTenants: [...tenantIds], batch });
      }
      counts[rule.table] = (counts[rule.table] ?? 0) + n;
    }
    return counts;
  });
}

/**
 * A service's retention pass on a timer: `pruneAll` over its rules every `intervalMs` (and once
 * shortly after start), failures logged and retried on the next tick. Each service's
 * `src/retention/retention.pruner.ts` owns one and says which rules and tenants.
 */
export class PeriodicPruner {
  private timer?: NodeJS.Timeout;
  private first?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly schema: string,
    private readonly rules: () => readonly PruneRule[],
    private readonly tenantIds: () => readonly string[],
    private readonly warn: (message: string) => void,
  ) {}

  start(intervalMs: number, firstAfterMs = 60_000): void {
    const tick = () =>
      void this.prune().catch((error) => this.warn(`retention prune of ${this.schema} failed: ${(error as Error).message}`));
    this.first = setTimeout(tick, firstAfterMs);
    this.timer = setInterval(tick, intervalMs);
    this.first.unref();
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.first);
    clearInterval(this.timer);
  }

  prune(batch?: number): Promise<Record<string, number> | undefined> {
    return pruneAll(this.dataSource, this.schema, this.rules(), this.tenantIds(), batch);
  }
}
