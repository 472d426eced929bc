import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { counter } from '@wa/observability';
import { SERVICE_DESCRIPTOR, type ServiceDescriptor } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';

export const WEBHOOK_ROUTE_PREFIX = '/webhooks/whatsapp';
const WEBHOOK_ROUTE = `${WEBHOOK_ROUTE_PREFIX}/:appId`;

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

/**
 * Two Fastify-level pieces the webhook needs that a Nest controller cannot express:
 *
 * - Its JSON body must reach the handler unparsed. The signature is checked over the exact bytes
 *   before anything is parsed, and a signed body that is not JSON must still be kept (quarantine)
 *   rather than bounced by the framework's parser with a 400. Other routes keep the default
 *   (poisoning-safe) JSON parser.
 * - Every webhook response is counted by outcome, including those Fastify answers itself (413/415).
 */
@Injectable()
export class WebhookHttpSetup implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly registry: TenantRegistry,
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
    fastify.addHook('onResponse', async (request: WebhookRequest, reply) => {
      if (request.method !== 'POST' || request.routeOptions.url !== WEBHOOK_ROUTE) return;
      const appId = (request.params as { appId?: string } | undefined)?.appId ?? '';
      // Only configured apps become label values: a scan of random app ids must not grow the series.
      const app = this.registry.app(appId) ? appId : 'unknown';
      const outcome = request.webhookOutcome ?? OUTCOME_BY_STATUS[reply.statusCode] ?? 'error';
      webhookRequests.inc({ app, outcome });
    });
  }
}
