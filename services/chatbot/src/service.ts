import type { ServiceDescriptor } from '@wa/service-kit';
import { ChatbotEnv } from './config/env';
import { Init1764115200000 } from './migrations/1764115200000-init';
import { OutboxParking1765000000000 } from './migrations/1765000000000-outbox-parking';
import { ChatContact } from './contacts/contact.entity';

export const chatbotService: ServiceDescriptor<ChatbotEnv> = {
  name: 'chatbot',
  schema: 'chatbot',
  consumerGroup: 'chatbot',
  envClass: ChatbotEnv,
  entities: [ChatContact],
  migrations: [Init1764115200000, OutboxParking1765000000000],
  description: 'Multilingual menu chatbot: answers, procedures, documents, payments links and problem reports.',
};
