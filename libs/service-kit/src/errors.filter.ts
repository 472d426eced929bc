import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { throwError, type Observable } from 'rxjs';

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

/** Typed domain error with a stable code; mapped to HTTP at the edge. */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = HttpStatus.UNPROCESSABLE_ENTITY,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
  503: 'unavailable',
};

/**
 * Every HTTP error leaves as `{ code, message, details }`; internals are logged, never returned.
 * Also installed on the Kafka transport (inherited app config), where it rethrows untouched.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    // Kafka handlers: the consumer host needs the real error to choose retry or DLQ.
    if (host.getType() === 'rpc') return throwError(() => exception);
    const { status, body } = errorResponseOf(exception, this.logger);
    void host.switchToHttp().getResponse<FastifyReply>().status(status).send(body);
  }
}

/**
 * The status and `{ code, message, details }` body for an error, as every HTTP route answers it
 * (the filter for Nest routes; raw Fastify routes call it directly). Unexpected errors are logged.
 */
export function errorResponseOf(exception: unknown, logger: Pick<Logger, 'error'>): { status: number; body: ErrorBody } {
  if (exception instanceof DomainError) {
    return { status: exception.status, body: { code: exception.code, message: exception.message, details: exception.details } };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const r = typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : {};
    const messages = r.message;
    return {
      status,
      body: {
        code: typeof r.code === 'string' ? r.code : (CODE_BY_STATUS[status] ?? `http_${status}`),
        message: Array.isArray(messages) ? 'Request validation failed' : String(messages ?? exception.message),
        details: Array.isArray(messages) ? messages : r.details,
      },
    };
  }
  logger.error(exception instanceof Error ? exception.stack : String(exception));
  return { status: HttpStatus.INTERNAL_SERVER_ERROR, body: { code: 'internal', message: 'Internal error' } };
}
