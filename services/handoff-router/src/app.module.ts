import { Module, type DynamicModule } from '@nestjs/common';
import { AuthModule } from '@wa/auth';
import { PlatformModule } from '@wa/service-kit';
import type { HandoffEnv } from './config/env';
import { ConsoleModule } from './console/console-static';
import { handoffRouterService } from './service';

@Module({})
export class AppModule {
  static forRoot(env: HandoffEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(handoffRouterService, env), AuthModule.forRoot(env), ConsoleModule],
    };
  }
}
