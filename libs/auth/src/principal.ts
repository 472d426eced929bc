/** The platform's roles (design brief: "one way to authenticate people and systems"). */
/** `service`: another platform service calling an API (the chatbot fetching a citizen's photo). */
export const ROLES = ['admin', 'template-editor', 'flow-editor', 'supervisor', 'agent', 'service'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Who is calling, as the verified token says. Every query a handler makes is scoped by `tenant`. */
export interface Principal {
  /** Subject: the person or system (OIDC `sub`). */
  sub: string;
  /** The tenant (agency) the token was issued for. */
  tenant: string;
  /** Known platform roles from the token; unknown role names are dropped. */
  roles: Role[];
  /** Token id, when the issuer sets one (audit logs). */
  jti?: string;
  expiresAt?: Date;
}

/** `admin` of a tenant may do anything a narrower role of that tenant may do. */
export function hasAnyRole(principal: Principal, required: readonly Role[]): boolean {
  if (required.length === 0) return true;
  return principal.roles.some((r) => r === 'admin' || required.includes(r));
}
