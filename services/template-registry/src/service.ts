import type { ServiceDescriptor } from '@wa/service-kit';
import { TemplatesEnv } from './config/env';
import { Init1764115200000 } from './migrations/1764115200000-init';
import { Registry1764300000000 } from './migrations/1764300000000-registry';
import { OutboxParking1765000000000 } from './migrations/1765000000000-outbox-parking';
import { Retention1765400000000 } from './migrations/1765400000000-retention';
import { ManagementCall, Translation, TranslationHistory, TranslationVersion } from './registry/entities';
import { TemplateEvent } from './template-events/template-event.entity';

export const templateRegistryService: ServiceDescriptor<TemplatesEnv> = {
  name: 'template-registry',
  schema: 'templates',
  consumerGroup: 'template-registry',
  envClass: TemplatesEnv,
  entities: [TemplateEvent, Translation, TranslationVersion, TranslationHistory, ManagementCall],
  migrations: [Init1764115200000, Registry1764300000000, OutboxParking1765000000000, Retention1765400000000],
  description: 'Authors, validates, submits and tracks WhatsApp message templates per agency and language.',
};
