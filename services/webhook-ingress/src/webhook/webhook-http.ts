import { HttpStatus, Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { counter } from '@wa/observability';
import { DomainError, errorResponseOf, SERVICE_DESCRIPTOR, type ServiceDescriptor } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import { WebhookReceiver } from './webhook-receiver';
import { WEBHOOK_ROUTE } from './webhook-route';

export type WebhookOutcome =
  | 'accepted'
  | 'unknown_app'
  | 'unsupported_media_type'
  | 'missing_signature'
  | 'bad_signature'
  | 'too_large'
  | 'not_json'
  | 'not_whatsapp'
  | 'kafka_timeout'
  | 'kafka_failed'
  | 'overloaded'
  | 'error';

export interface WebhookRequest extends FastifyRequest {
  rawBody?: Buffer;
  webhookOutcome?: WebhookOutcome;
}

const webhookRequests = counter('webhook_requests_total', 'Webhook POSTs by app and outcome', ['app', 'outcome']);
const tracer = trace.getTracer('webhook-ingress');

/**
 * The webhook POST, wired into Fastify directly rather than as a Nest controller method:
 *
 * - It is the one hot path (Meta's whole traffic) and its own work is small (an HMAC, a JSON
 *   parse, a Kafka produce), so the generic per-request layers cost more than the work: Nest's
 *   router pipeline, the HTTP logger's child logger and the HTTP instrumentation's emitter binding
 *   together took about two thirds of a request's CPU (bench:ingress profile). This route starts
 *   one server span itself, continuing a caller's traceparent, and logs its own failures; errors
 *   leave in the same `{ code, message }` shape as every other route.
 * - It reads its own body, as exact bytes, and never meets Fastify's body parser: the signature is
 *   checked over those bytes before anything is parsed, a signed body that is not JSON must still
 *   be kept (quarantine) rather than bounced with a 400, and the parser's per-request
 *   AsyncResource costs more than the reading (see onModuleInit). Other routes keep the default
 *   (poisoning-safe) JSON parser.
 * - Every webhook response is counted by outcome.
 */
@Injectable()
export class WebhookHttpSetup implements OnModuleInit {
  private readonly logger = new Logger('WebhookHttp');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly registry: TenantRegistry,
    private readonly receiver: WebhookReceiver,
    @Inject(SERVICE_DESCRIPTOR) private readonly descriptor: ServiceDescriptor,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // The route answers from its onRequest hook, reading the body itself: Fastify's body parser
    // wraps every request in an AsyncResource whose bind() costs two deprecation shims per call in
    // Node 20 (~8 µs of a receiver's ~107). Answering in onRequest skips parsing and the handler.
    fastify.route({
      method: 'POST',
      url: WEBHOOK_ROUTE,
      onRequest: async (request, reply) => {
        await this.handle(request as WebhookRequest, reply);
        return reply;
      },
      handler: () => {
        throw new Error('unreachable: the onRequest hook answers every webhook POST');
      },
    });
    fastify.addHook('onResponse', async (request: WebhookRequest, reply) => {
      if (request.method !== 'POST' || request.routeOptions.url !== WEBHOOK_ROUTE) return;
      const appId = (request.params as { appId?: string } | undefined)?.appId ?? '';
      // Only configured apps become label values: a scan of random app ids must not grow the series.
      const app = this.registry.app(appId) ? appId : 'unknown';
      const outcome = request.webhookOutcome ?? 'error';
      webhookRequests.inc({ app, outcome });
      if (reply.statusCode >= 400) {
        const line = { app, outcome, status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
        if (reply.statusCode >= 500) this.logger.error(line, 'webhook not accepted');
        else this.logger.warn(line, 'webhook refused');
      }
    });
  }

  private async handle(request: WebhookRequest, reply: FastifyReply): Promise<void> {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(
      `POST ${WEBHOOK_ROUTE}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'http.route': WEBHOOK_ROUTE } },
      parent,
    );
    const appId = (request.params as { appId: string }).appId;
    try {
      request.rawBody = await this.readBody(request);
      await this.receiver.receive(appId, request, trace.setSpan(parent, span));
      span.setAttribute('http.response.status_code', 200);
      await reply.code(200).send();
    } catch (error) {
      const { status, body } = errorResponseOf(error, this.logger);
      request.webhookOutcome ??= 'error';
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: body.code });
      // A body cut off at the limit leaves unread bytes on the connection: close it.
      if (status === 413) reply.header('connection', 'close');
      await reply.code(status).send(body);
    } finally {
      span.setAttribute('webhook.outcome', request.webhookOutcome ?? 'error');
      span.end();
    }
  }

  /** The exact request bytes, up to the service's body limit (413 beyond it, declared or sent). */
  private readBody(request: WebhookRequest): Promise<Buffer> {
    const limit = this.descriptor.bodyLimit ?? 1024 * 1024;
    const tooLarge = () => {
      request.webhookOutcome = 'too_large';
      return new DomainError('payload_too_large', `Body larger than ${limit} bytes`, HttpStatus.PAYLOAD_TOO_LARGE);
    };
    if (Number(request.headers['content-length']) > limit) return Promise.reject(tooLarge());
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const raw = request.raw;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          raw.off('data', onData);
          raw.pause();
          reject(tooLarge());
          return;
        }
        chunks.push(chunk);
      };
      raw.on('data', onData);
      raw.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
      raw.once('error', reject);
      // A client that goes away mid-body: settle, so the span ends. 'close' follows every request,
      // so the error (a stack trace) is built only when the body did not arrive whole.
      raw.once('close', () => {
        if (!raw.complete) reject(new DomainError('aborted', 'Request closed before its body ended', HttpStatus.BAD_REQUEST));
      });
    });
  }
}
