// Imported by each service's src/tracing.ts, which main.ts imports first: instrumentation must
// patch http, pg and kafkajs before anything requires them. Nothing here may import Nest or pino.
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import type { IncomingMessage } from 'node:http';
import { NodeSDK, type tracing } from '@opentelemetry/sdk-node';
import { handIncomingSpansToRoutes } from './incoming-http';
import { SynchronousContextManager } from './synchronous-context';

let sdk: NodeSDK | undefined;

export interface TracingOptions {
  serviceName: string;
  /** Tests pass an in-memory processor; otherwise OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  spanProcessors?: tracing.SpanProcessor[];
  /**
   * Requests that start their own server span: a hot route whose own work is smaller than the HTTP
   * instrumentation's per-request cost. Naming any turns the instrumentation's incoming side off
   * for the whole server (it costs even the requests it ignores: see incoming-http.ts); every
   * other request then gets its server span from service-kit's route spans (Fastify hooks).
   */
  ignoreIncomingRequest?: (request: IncomingMessage) => boolean;
  /**
   * false: no AsyncLocalStorage (SynchronousContextManager), for a process whose hot path carries
   * its trace context explicitly and whose throughput Node 20's promise hooks would cut (the
   * webhook receivers). Spans started after an await then begin their own trace.
   */
  asyncContext?: boolean;
}

/**
 * Starts the SDK, or nothing at all under OTEL_SDK_DISABLED=true: the SDK itself honours that flag
 * only in start(), after the instrumentations have patched http, pg and the rest (they enable
 * themselves when constructed), so a disabled service would still pay for every wrapper.
 */
export function startTracing(options: TracingOptions): NodeSDK | undefined {
  if (process.env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  if (sdk) return sdk;
  process.env.OTEL_SERVICE_NAME ??= options.serviceName;
  // Without a collector the default OTLP metrics/logs exporters retry for seconds at shutdown;
  // metrics are scraped from /metrics instead.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  process.env.OTEL_TRACES_EXPORTER ??= process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'none';
  sdk = new NodeSDK({
    serviceName: options.serviceName,
    spanProcessors: options.spanProcessors,
    ...(options.asyncContext === false ? { contextManager: new SynchronousContextManager() } : {}),
    instrumentations: [
      getNodeAutoInstrumentations({
        '@opentelemetry/instrumentation-fs': { enabled: false },
        '@opentelemetry/instrumentation-dns': { enabled: false },
        '@opentelemetry/instrumentation-net': { enabled: false },
        '@opentelemetry/instrumentation-pino': { enabled: false },
        '@opentelemetry/instrumentation-http': { disableIncomingRequestInstrumentation: options.ignoreIncomingRequest !== undefined },
        // @wa/kafka makes its own producer/consumer spans: records are batched across callers and
        // relayed from the outbox, and the stock instrumentation would re-parent every record on
        // whoever flushed the batch (and overwrite the traceparent the outbox preserved).
        '@opentelemetry/instrumentation-kafkajs': { enabled: false },
        // One HTTP server span per request is the trace root; the nestjs-core
        // instrumentation adds spans per handler layer, which cost the
        // webhook ingress more CPU than its own work while telling us little.
        '@opentelemetry/instrumentation-nestjs-core': { enabled: false },
      }),
    ],
  });
  sdk.start();
  if (options.ignoreIncomingRequest) handIncomingSpansToRoutes(options.ignoreIncomingRequest);
  return sdk;
}

export async function stopTracing(): Promise<void> {
  const current = sdk;
  sdk = undefined;
  await current?.shutdown().catch(() => undefined);
}
