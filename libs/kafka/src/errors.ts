/** Thrown by handlers for failures that no retry can fix (bad data, business rule): straight to the DLQ. */
export class NonRetriableError extends Error {
  readonly retriable = false;
  constructor(
    message: string,
    readonly reason = 'non-retriable',
  ) {
    super(message);
    this.name = 'NonRetriableError';
  }
}

/**
 * Thrown by handlers when something they depend on is down (not the record's fault), for cases the
 * classifier cannot recognise by itself (an HTTP dependency answering 503, say). The consumer host
 * waits for the dependency instead of spending the record's retries.
 */
export class InfrastructureUnavailableError extends Error {
  readonly infrastructure = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InfrastructureUnavailableError';
  }
}

/**
 * What a failure says about the record:
 * - `infrastructure`: PostgreSQL or Kafka is unreachable or refusing work (connection refused or cut,
 *   admin shutdown, too many connections, no client from the pool in time, broker not available).
 *   Any record would fail the same way now, so it is no evidence against this one: the consumer
 *   host pauses the partition and tries the same record again later, without spending its retries.
 * - `non-retriable`: about the record itself (bad input, business rule): straight to the DLQ.
 * - `retriable`: anything else: in-place tries, then the retry topic, then the DLQ.
 */
export type FailureKind = 'infrastructure' | 'non-retriable' | 'retriable';

export function classifyFailure(error: unknown): FailureKind {
  if (isInfrastructureError(error)) return 'infrastructure';
  return isRetriable(error) ? 'retriable' : 'non-retriable';
}

export function isRetriable(error: unknown): boolean {
  return !(typeof error === 'object' && error !== null && (error as { retriable?: boolean }).retriable === false);
}

/** Node socket errors: the peer is not there (or went away). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL SQLSTATEs that describe the server, not the statement: class 08 (connection exception),
 * class 53 (insufficient resources: too many connections, out of memory, disk full), and the
 * operator-intervention codes for a server going away (admin/crash shutdown, cannot connect now).
 */
function isInfrastructureSqlState(code: string): boolean {
  return code.startsWith('08') || code.startsWith('53') || code === '57P01' || code === '57P02' || code === '57P03';
}

/** node-postgres and pg-pool say these without a code. */
const PG_MESSAGES = [
  'connection terminated',
  'timeout exceeded when trying to connect',
  'client has encountered a connection error',
  'cannot use a pool after calling end',
  'client was closed and is not queryable',
];

/** kafkajs errors that mean the broker is unreachable or not ready (not a refusal of the record). */
const KAFKAJS_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
  'KafkaJSGroupCoordinatorNotFound',
]);

/** @platformatic/kafka's codes for an unreachable or unresponsive broker. */
const PLATFORMATIC_CODES = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT']);

/**
 * True when the failure is about infrastructure being unavailable (see FailureKind). Looks through
 * wrappers: TypeORM's `driverError`, `cause`, kafkajs's `originalError` and aggregate `errors`.
 */
export function isInfrastructureError(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const e = error as {
    infrastructure?: boolean;
    code?: unknown;
    name?: unknown;
    message?: unknown;
    retriable?: boolean;
    type?: unknown;
    driverError?: unknown;
    cause?: unknown;
    originalError?: unknown;
    errors?: unknown;
  };
  if (e.infrastructure === true) return true;
  if (typeof e.code === 'string') {
    if (NETWORK_CODES.has(e.code) || PLATFORMATIC_CODES.has(e.code)) return true;
    if (/^[0-9A-Z]{5}$/.test(e.code) && isInfrastructureSqlState(e.code)) return true;
  }
  if (typeof e.name === 'string') {
    if (KAFKAJS_NAMES.has(e.name)) return true;
    // Broker-side transient states (leader moving, not enough replicas, request timed out).
    if (e.name === 'KafkaJSProtocolError' && e.retriable === true) return true;
  }
  if (typeof e.message === 'string') {
    const message = e.message.toLowerCase();
    if (PG_MESSAGES.some((m) => message.includes(m))) return true;
  }
  const nested = [e.driverError, e.cause, e.originalError, ...(Array.isArray(e.errors) ? e.errors : [])];
  return nested.some((inner) => inner !== error && isInfrastructureError(inner, depth + 1));
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
