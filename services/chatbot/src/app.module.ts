import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@wa/service-kit';
import type { ChatbotEnv } from './config/env';
import { ContactConsumer } from './contacts/contacts.consumer';
import { chatbotService } from './service';

@Module({})
export class AppModule {
  static forRoot(env: ChatbotEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(chatbotService, env)],
      controllers: [ContactConsumer],
    };
  }
}
