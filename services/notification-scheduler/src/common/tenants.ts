import { TenantRegistry } from '@wa/tenancy';

/** Tenant ids of the registry, or 'unknown': metric labels must not take arbitrary header values. */
export function tenantLabel(registry: TenantRegistry, tenantId: string | undefined): string {
  return tenantId && registry.tenant(tenantId) ? tenantId : 'unknown';
}

/** Meta's wa_id for a phone number is its digits (E.164 without +). */
export function waIdOf(phone: string): string {
  return phone.replace(/^\+/, '');
}
