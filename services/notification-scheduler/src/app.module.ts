import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@wa/service-kit';
import type { SchedulerEnv } from './config/env';
import { TemplateCatalogConsumer } from './template-catalog/template-catalog.consumer';
import { notificationSchedulerService } from './service';

@Module({})
export class AppModule {
  static forRoot(env: SchedulerEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(notificationSchedulerService, env)],
      controllers: [TemplateCatalogConsumer],
    };
  }
}
