import type { ServiceDescriptor } from '@wa/service-kit';
import { IngressEnv } from './config/env';
import { Init1764115200000 } from './migrations/1764115200000-init';
import { RawWebhook } from './raw-archive/raw-webhook.entity';

export const ingressService: ServiceDescriptor<IngressEnv> = {
  name: 'webhook-ingress',
  schema: 'ingress',
  consumerGroup: 'webhook-ingress',
  envClass: IngressEnv,
  entities: [RawWebhook],
  migrations: [Init1764115200000],
  rawBody: true,
  // Meta posts up to 3 MB; the margin keeps a legitimate maximal batch from bouncing.
  bodyLimit: 4 * 1024 * 1024,
  description: 'Receives WhatsApp Cloud API webhooks, stores them durably on Kafka and normalizes them.',
};
