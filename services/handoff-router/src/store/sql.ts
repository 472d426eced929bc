import type { EntityManager } from 'typeorm';

/**
 * Rows of a statement with RETURNING. TypeORM answers UPDATE and DELETE with `[rows, rowCount]`
 * and everything else with the rows, so every UPDATE/DELETE … RETURNING here goes through this.
 */
export async function returning<T>(m: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const result: unknown = await m.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
