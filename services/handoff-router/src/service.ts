import type { ServiceDescriptor } from '@wa/service-kit';
import { HandoffEnv } from './config/env';
import { Init1764115200000 } from './migrations/1764115200000-init';
import { OutboxParking1765000000000 } from './migrations/1765000000000-outbox-parking';
import { HandoffRequest } from './queue/handoff-request.entity';

export const handoffRouterService: ServiceDescriptor<HandoffEnv> = {
  name: 'handoff-router',
  schema: 'handoff',
  consumerGroup: 'handoff-router',
  envClass: HandoffEnv,
  entities: [HandoffRequest],
  migrations: [Init1764115200000, OutboxParking1765000000000],
  description: 'Queues conversations for human agents by department, language and capacity; the agent console API.',
};
