import type { EntityManager } from 'typeorm';

/** Rows a service erased, per schema-qualified table. */
export type ErasureCounts = Record<string, { deleted: number; anonymised: number }>;

/** Collects what one erasure did, table by table, for its result event and the logs. */
export class ErasureTally {
  readonly counts: ErasureCounts = {};

  /** Runs a DELETE … RETURNING or UPDATE … RETURNING and counts the rows it touched. */
  async run(manager: EntityManager, table: string, how: 'deleted' | 'anonymised', sql: string, params: unknown[]): Promise<number> {
    // Counted in SQL: the driver's answer to a bare DELETE/UPDATE is [rows, count], not the rows.
    const [{ n }]: { n: number }[] = await manager.query(`WITH touched AS (${sql}) SELECT count(*)::int AS n FROM touched`, params);
    const entry = (this.counts[table] ??= { deleted: 0, anonymised: 0 });
    entry[how] += n;
    return n;
  }
}

/** `LIKE` patterns matching any of the citizen's spellings inside free text (raw bodies, payloads). */
export function containsAny(spellings: readonly string[]): string[] {
  return spellings.map((s) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
}

/**
 * Deletes the schema's outbox rows about the citizen, published or not: those keyed
 * `tenant:citizenKey` and any other row of the tenant whose payload names them. A pending row is
 * dropped too: what it would tell other services is about someone they are erasing as well. The
 * one exception is an erasure request not yet relayed, which must still reach every service.
 */
export async function eraseOutbox(
  manager: EntityManager,
  schema: string,
  tenantId: string,
  citizenKey: string,
  spellings: readonly string[],
  tally: ErasureTally,
): Promise<void> {
  await tally.run(
    manager,
    `${schema}.outbox`,
    'deleted',
    `DELETE FROM ${schema}.outbox WHERE (key = $1 OR (key LIKE $2 AND value LIKE ANY($3::text[])))
       AND NOT (topic = 'citizen.erasure.v1' AND published_at IS NULL) RETURNING 1`,
    [`${tenantId}:${citizenKey}`, `${tenantId.replace(/[\\%_]/g, (c) => `\\${c}`)}:%`, containsAny(spellings)],
  );
}
