import type { FastifyRequest } from 'fastify';
import type { PhoneNumberConfig, TenantConfig } from '@wa/tenancy';
import type { SandboxContext } from '../sandbox-context';

/** The tenant and number a Graph call is for, checked like Meta: the number must exist and the token be its owner's. */
export function authorize(
  context: SandboxContext,
  request: FastifyRequest,
  phoneNumberId: string,
): { tenant: TenantConfig; phone: PhoneNumberConfig } | { code: number; message: string; details: string; http: number } {
  const found = context.tenants.tenantByPhoneNumberId(phoneNumberId);
  const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!token)
    return {
      code: 190,
      message: 'An active access token must be used to query information about the current user.',
      details: 'Missing bearer token.',
      http: 401,
    };
  if (!found) {
    return {
      code: 100,
      message: `Unsupported post request. Object with ID '${phoneNumberId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      details: 'Unknown phone number id.',
      http: 400,
    };
  }
  let expected: string | undefined;
  try {
    expected = context.tenants.secret(found.tenant.accessTokenRef);
  } catch {
    expected = undefined;
  }
  if (!expected || expected !== token)
    return {
      code: 190,
      message: 'Invalid OAuth access token - Cannot parse access token',
      details: 'The access token is invalid.',
      http: 401,
    };
  return found;
}
