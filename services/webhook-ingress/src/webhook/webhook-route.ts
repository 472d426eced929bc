// Imported by tracing.ts, before Nest or anything it patches is loaded: nothing else here.

/** Meta's callback URLs: one per app, `/webhooks/whatsapp/<appId>`. */
export const WEBHOOK_ROUTE_PREFIX = '/webhooks/whatsapp';
export const WEBHOOK_ROUTE = `${WEBHOOK_ROUTE_PREFIX}/:appId`;

/** The webhook POST: served by its own Fastify route, traced by it rather than by the HTTP instrumentation. */
export function isWebhookPost(request: { method?: string; url?: string }): boolean {
  return request.method === 'POST' && (request.url ?? '').startsWith(`${WEBHOOK_ROUTE_PREFIX}/`);
}
