import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { counter } from '@wa/observability';
import { errorResponseOf, SERVICE_DESCRIPTOR, type ServiceDescriptor } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import { WebhookReceiver } from './webhook-receiver';
import { WEBHOOK_ROUTE, WEBHOOK_ROUTE_PREFIX } from './webhook-route';

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

// Outcomes decided by Fastify before the handler runs (body limit, unknown content type).
const OUTCOME_BY_STATUS: Record<number, WebhookOutcome> = { 413: 'too_large', 415: 'unsupported_media_type' };

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
 * - Its JSON body must reach the handler unparsed. The signature is checked over the exact bytes
 *   before anything is parsed, and a signed body that is not JSON must still be kept (quarantine)
 *   rather than bounced by the framework's parser with a 400. Other routes keep the default
 *   (poisoning-safe) JSON parser.
 * - Every webhook response is counted by outcome, including those Fastify answers itself (413/415).
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
    const defaultJson = fastify.getDefaultJsonParser('error', 'error');
    fastify.removeContentTypeParser('application/json');
    fastify.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: this.descriptor.bodyLimit },
      (request: WebhookRequest, body: Buffer, done: (error: Error | null, body?: unknown) => void) => {
        request.rawBody = body;
        if (request.url.startsWith(`${WEBHOOK_ROUTE_PREFIX}/`)) {
          done(null, undefined);
          return;
        }
        defaultJson(request, body as unknown as string, done);
      },
    );
    fastify.post(WEBHOOK_ROUTE, (request, reply) => this.handle(request as WebhookRequest, reply));
    fastify.addHook('onResponse', async (request: WebhookRequest, reply) => {
      if (request.method !== 'POST' || request.routeOptions.url !== WEBHOOK_ROUTE) return;
      const appId = (request.params as { appId?: string } | undefined)?.appId ?? '';
      // Only configured apps become label values: a scan of random app ids must not grow the series.
      const app = this.registry.app(appId) ? appId : 'unknown';
      const outcome = request.webhookOutcome ?? OUTCOME_BY_STATUS[reply.statusCode] ?? 'error';
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
      await this.receiver.receive(appId, request, trace.setSpan(parent, span));
      span.setAttribute('http.response.status_code', 200);
      await reply.code(200).send();
    } catch (error) {
      const { status, body } = errorResponseOf(error, this.logger);
      request.webhookOutcome ??= 'error';
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: body.code });
      await reply.code(status).send(body);
    } finally {
      span.setAttribute('webhook.outcome', request.webhookOutcome ?? 'error');
      span.end();
    }
  }
}
