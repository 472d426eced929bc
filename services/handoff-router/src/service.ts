import type { ServiceDescriptor } from '@wa/service-kit';
import { HandoffEnv } from './config/env';
import { Init1764115200000 } from './migrations/1764115200000-init';
import { OutboxParking1765000000000 } from './migrations/1765000000000-outbox-parking';
import { Router1765300000000 } from './migrations/1765300000000-router';

export const handoffRouterService: ServiceDescriptor<HandoffEnv> = {
  name: 'handoff-router',
  schema: 'handoff',
  consumerGroup: 'handoff-router',
  envClass: HandoffEnv,
  entities: [],
  migrations: [Init1764115200000, OutboxParking1765000000000, Router1765300000000],
  description:
    'Human handoff: queues conversations for agents by department, language and capacity; the agent console API and event streams; call-centre deflection to WhatsApp.',
};
