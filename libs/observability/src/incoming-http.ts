import type { IncomingMessage } from 'node:http';

/** Requests that start their own server span (a service's hot route), when startTracing was told of some. */
export type SelfTracedRequest = (request: IncomingMessage) => boolean;

let selfTraced: SelfTracedRequest | undefined;

/**
 * Set by startTracing when a service names self-traced requests: the HTTP instrumentation's
 * incoming side is then off for the whole server, and the web framework starts the other
 * requests' server spans itself (service-kit's route spans). Even for a request it ignores, the
 * instrumentation enters a context and rebinds the request's and response's event emitters, which
 * cost the webhook receiver about a sixth of its throughput (bench:ingress).
 */
export function handIncomingSpansToRoutes(requests: SelfTracedRequest): void {
  selfTraced = requests;
}

/** The self-traced requests if route spans are in use (tracing on, instrumentation's incoming side off). */
export function routeSpansExcept(): SelfTracedRequest | undefined {
  return selfTraced;
}
