import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@wa/service-kit';
import type { IngressEnv } from './config/env';
import { RawArchiveConsumer } from './raw-archive/raw-archive.consumer';
import { ingressService } from './service';

@Module({})
export class AppModule {
  static forRoot(env: IngressEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(ingressService, env)],
      controllers: [RawArchiveConsumer],
    };
  }
}
