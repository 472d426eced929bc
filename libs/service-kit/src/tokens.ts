export const SERVICE_DESCRIPTOR = Symbol('SERVICE_DESCRIPTOR');
export const SERVICE_ENV = Symbol('SERVICE_ENV');
export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');
export const KAFKA_OPTIONS = Symbol('KAFKA_OPTIONS');
/** The replica's DatabaseMode (ServiceDescriptor.database). */
export const DATABASE_MODE = Symbol('DATABASE_MODE');

/**
 * Route metadata: the route takes no bearer token, and why. Set by `Public()` from `@wa/auth` and
 * by the platform's own probes and metrics; the route audit reads it.
 */
export const PUBLIC_ROUTE = 'wa:auth:public';
