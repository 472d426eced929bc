import type { ServiceDescriptor } from '@wa/service-kit';
import { SchedulerEnv } from './config/env';
import { Init1764115200000 } from './migrations/1764115200000-init';
import { Scheduling1764288000000 } from './migrations/1764288000000-scheduling';
import { CitizenKey1764547200000 } from './migrations/1764547200000-citizen-key';
import { OutboxParking1765000000000 } from './migrations/1765000000000-outbox-parking';
import { CitizenPreference1765100000000 } from './migrations/1765100000000-citizen-preference';
import { Retention1765400000000 } from './migrations/1765400000000-retention';
import { CatalogEntry } from './template-catalog/template-catalog.entity';

export const notificationSchedulerService: ServiceDescriptor<SchedulerEnv> = {
  name: 'notification-scheduler',
  schema: 'scheduler',
  consumerGroup: 'notification-scheduler',
  envClass: SchedulerEnv,
  entities: [CatalogEntry],
  migrations: [
    Init1764115200000,
    Scheduling1764288000000,
    CitizenKey1764547200000,
    OutboxParking1765000000000,
    CitizenPreference1765100000000,
    Retention1765400000000,
  ],
  description:
    'Turns agency events into timely, consented template notices and reports their outcome. Admin API: /v1/scheduler/policy, plan view: /v1/scheduler/notices.',
};
