import { RequestMethod } from '@nestjs/common';
import type { ServiceDescriptor } from '@wa/service-kit';
import { IngressEnv } from './config/env';
import { StoredMedia } from './media/stored-media.entity';
import { Init1764115200000 } from './migrations/1764115200000-init';
import { DedupeAndMedia1764201600000 } from './migrations/1764201600000-dedupe-and-media';
import { RawArchiveRetention1764374400000 } from './migrations/1764374400000-raw-archive-retention';
import { OutboxParking1765000000000 } from './migrations/1765000000000-outbox-parking';
import { Retention1765400000000 } from './migrations/1765400000000-retention';
import { MediaChunks1765500000000 } from './migrations/1765500000000-media-chunks';
import { WebhookDedupe } from './normalizer/webhook-dedupe.entity';
import { usesAsyncContext } from './receiver-role';
import { RawWebhook } from './raw-archive/raw-webhook.entity';
import { WEBHOOK_POST_OPENAPI } from './webhook/webhook-openapi';
import { WEBHOOK_ROUTE } from './webhook/webhook-route';

export const ingressService: ServiceDescriptor<IngressEnv> = {
  name: 'webhook-ingress',
  schema: 'ingress',
  consumerGroup: 'webhook-ingress',
  envClass: IngressEnv,
  entities: [RawWebhook, WebhookDedupe, StoredMedia],
  migrations: [
    Init1764115200000,
    DedupeAndMedia1764201600000,
    RawArchiveRetention1764374400000,
    OutboxParking1765000000000,
    Retention1765400000000,
    MediaChunks1765500000000,
  ],
  // Meta posts up to 3 MB; the margin keeps a legitimate maximal batch from bouncing.
  bodyLimit: 4 * 1024 * 1024,
  // The webhook POST is a raw Fastify route (WebhookHttpSetup says why); its entry in /docs.
  openApiPaths: WEBHOOK_POST_OPENAPI,
  // It logs its own failures, with their outcome.
  selfLoggedRoutes: [{ path: WEBHOOK_ROUTE.slice(1), method: RequestMethod.POST }],
  // Receivers: no per-request HTTP logger at all (receiver-role.ts says why).
  requestLogger: (env) => usesAsyncContext(env.INGRESS_CONSUMERS),
  // Receivers: the webhook path never touches PostgreSQL, so they start and are ready with Kafka
  // alone (a database outage or migration must not stop Meta's webhooks); the media API they also
  // serve connects on its first request. Normalizers archive, dedupe and relay: database at start.
  database: (env) => (env.INGRESS_CONSUMERS ? 'at-start' : 'on-demand'),
  description: 'Receives WhatsApp Cloud API webhooks, stores them durably on Kafka and normalizes them.',
};
