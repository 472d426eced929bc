import type { ServiceDescriptor } from '@wa/service-kit';
import { HandoffEnv } from './config/env';
import { Init1764115200000 } from './migrations/1764115200000-init';
import { HandoffRequest } from './queue/handoff-request.entity';

export const handoffRouterService: ServiceDescriptor<HandoffEnv> = {
  name: 'handoff-router',
  schema: 'handoff',
  consumerGroup: 'handoff-router',
  envClass: HandoffEnv,
  entities: [HandoffRequest],
  migrations: [Init1764115200000],
  description: 'Queues conversations for human agents by department, language and capacity; the agent console API.',
};
