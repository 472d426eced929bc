import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@wa/service-kit';
import type { HandoffEnv } from './config/env';
import { HandoffRequestConsumer } from './queue/queue.consumer';
import { handoffRouterService } from './service';

@Module({})
export class AppModule {
  static forRoot(env: HandoffEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(handoffRouterService, env)],
      controllers: [HandoffRequestConsumer],
    };
  }
}
