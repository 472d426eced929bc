import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SelfTracedRequest } from '@wa/observability';

const tracer = trace.getTracer('@wa/service-kit');
const spans = new WeakMap<FastifyRequest, Span>();

function endSpan(request: FastifyRequest, reply: FastifyReply | undefined): void {
  const span = spans.get(request);
  if (!span) return;
  spans.delete(request);
  if (reply) {
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  } else {
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'request aborted' });
  }
  span.end();
}

/**
 * Server spans from Fastify's own hooks, for a service that turned the HTTP instrumentation's
 * incoming side off (startTracing's ignoreIncomingRequest; see @wa/observability incoming-http):
 * one SERVER span per request except the self-traced ones, continuing the caller's traceparent and
 * named by route (never by raw URL). The rest of the request runs inside the span's context:
 * Fastify carries the context it was given in onRequest through body parsing to the handler, so
 * database and Kafka spans stay children of the request. Hand-written rather than @fastify/otel,
 * which adds a span per hook and expects the HTTP instrumentation's server span as its parent.
 */
export function installRouteSpans(fastify: FastifyInstance, selfTraced: SelfTracedRequest): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (selfTraced(request.raw)) {
      done();
      return;
    }
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions.url;
    const span = tracer.startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          ...(route ? { 'http.route': route } : {}),
          'url.path': request.url.split('?')[0],
        },
      },
      parent,
    );
    spans.set(request, span);
    context.with(trace.setSpan(parent, span), done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    endSpan(request, reply);
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    endSpan(request, undefined);
    done();
  });
}
