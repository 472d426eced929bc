import type { ServiceDescriptor } from '@wa/service-kit';
import { TemplatesEnv } from './config/env';
import { Init1764115200000 } from './migrations/1764115200000-init';
import { TemplateEvent } from './template-events/template-event.entity';

export const templateRegistryService: ServiceDescriptor<TemplatesEnv> = {
  name: 'template-registry',
  schema: 'templates',
  consumerGroup: 'template-registry',
  envClass: TemplatesEnv,
  entities: [TemplateEvent],
  migrations: [Init1764115200000],
  description: 'Authors, validates, submits and tracks WhatsApp message templates per agency and language.',
};
