import type { DataSource, EntityManager } from 'typeorm';

/**
 * The rows of any statement. TypeORM's raw query returns `[rows, rowCount]` for UPDATE and DELETE
 * (even with RETURNING) but plain rows for SELECT and INSERT; this evens that out.
 */
export async function rows<T = Record<string, unknown>>(
  executor: DataSource | EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const result: unknown = await executor.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
