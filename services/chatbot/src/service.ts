import type { ServiceDescriptor } from '@wa/service-kit';
import { ChatbotEnv } from './config/env';
import { Init1764115200000 } from './migrations/1764115200000-init';
import { CitizenKey1764547200000 } from './migrations/1764547200000-citizen-key';
import { OutboxParking1765000000000 } from './migrations/1765000000000-outbox-parking';
import { Conversations1765100000000 } from './migrations/1765100000000-conversations';
import { ProfilesReplaceContacts1765400000000 } from './migrations/1765400000000-profiles-replace-contacts';
import { Retention1765600000000 } from './migrations/1765600000000-retention';

export const chatbotService: ServiceDescriptor<ChatbotEnv> = {
  name: 'chatbot',
  schema: 'chatbot',
  consumerGroup: 'chatbot',
  envClass: ChatbotEnv,
  entities: [],
  migrations: [
    Init1764115200000,
    CitizenKey1764547200000,
    OutboxParking1765000000000,
    Conversations1765100000000,
    ProfilesReplaceContacts1765400000000,
    Retention1765600000000,
  ],
  description:
    'Multilingual flow chatbot: menus, questions, problem reports with reference numbers, handoff to agents, STOP/START. Admin API: /v1/flows.',
};
