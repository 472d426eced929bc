import type { ServiceDescriptor } from '@wa/service-kit';
import { SchedulerEnv } from './config/env';
import { Init1764115200000 } from './migrations/1764115200000-init';
import { CatalogEntry } from './template-catalog/template-catalog.entity';

export const notificationSchedulerService: ServiceDescriptor<SchedulerEnv> = {
  name: 'notification-scheduler',
  schema: 'scheduler',
  consumerGroup: 'notification-scheduler',
  envClass: SchedulerEnv,
  entities: [CatalogEntry],
  migrations: [Init1764115200000],
  description: 'Turns agency events into timely, consented template notices and reports their outcome.',
};
