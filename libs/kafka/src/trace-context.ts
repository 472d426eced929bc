import { context, propagation, ROOT_CONTEXT, SpanKind, trace, type Context, type Span } from '@opentelemetry/api';

const tracer = trace.getTracer('@wa/kafka');

/** W3C trace context (traceparent/tracestate) written into string headers. */
export function injectTraceContext(headers: Record<string, string>, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers);
}

export function extractTraceContext(headers: Record<string, string | undefined>): Context {
  return propagation.extract(ROOT_CONTEXT, headers);
}

/**
 * Producer spans are ours, not kafkajs-instrumentation's: records are batched across callers and
 * relayed from the outbox, so each record's span must be a child of the context it was created in,
 * not of whatever context happens to flush the batch.
 */
export function startProducerSpan(topic: string, parent: Context): Span {
  return tracer.startSpan(
    `send ${topic}`,
    { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': topic } },
    parent,
  );
}

export function startConsumerSpan(topic: string, parent: Context, attributes: Record<string, string | number>): Span {
  return tracer.startSpan(
    `process ${topic}`,
    { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': topic, ...attributes } },
    parent,
  );
}
