import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { LoggerOptions } from 'pino';
import { maskDeep, maskPhonesInText, redactQuery } from './masking';

/** pino options shared by every service: JSON, trace ids on each line, secrets and phones masked. */
export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    messageKey: 'msg',
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-hub-signature-256"]',
        'req.headers.cookie',
        '*.accessToken',
        '*.appSecret',
        '*.password',
        'accessToken',
        'appSecret',
      ],
      censor: '[redacted]',
    },
    serializers: {
      // The webhook handshake carries Meta's verify token in its query string.
      req: (req: { url?: string }) => ({ ...req, url: redactQuery(req.url) }),
    },
    mixin() {
      const span = trace.getActiveSpan()?.spanContext();
      return span && isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
    },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => maskDeep(object) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        const masked = args.map((a) => (typeof a === 'string' ? maskPhonesInText(a) : a)) as Parameters<typeof method>;
        return method.apply(this, masked);
      },
    },
  };
}
