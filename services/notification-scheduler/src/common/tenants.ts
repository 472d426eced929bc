import { TenantRegistry } from '@wa/tenancy';

/** Tenant ids of the registry, or 'unknown': metric labels must not take arbitrary header values. */
export function tenantLabel(registry: TenantRegistry, tenantId: string | undefined): string {
  return tenantId && registry.tenant(tenantId) ? tenantId : 'unknown';
}

/**
 * Rows of an UPDATE/DELETE ... RETURNING run through TypeORM's query(): the Postgres driver hands
 * those back as [rows, affectedCount], unlike SELECT and INSERT.
 */
export function returnedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
