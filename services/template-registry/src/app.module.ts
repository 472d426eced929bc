import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@wa/service-kit';
import type { TemplatesEnv } from './config/env';
import { TemplateEventConsumer } from './template-events/template-events.consumer';
import { templateRegistryService } from './service';

@Module({})
export class AppModule {
  static forRoot(env: TemplatesEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(templateRegistryService, env)],
      controllers: [TemplateEventConsumer],
    };
  }
}
