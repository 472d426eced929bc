import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@wa/service-kit';
import type { GatewayEnv } from './config/env';
import { ContactWindowConsumer } from './contact-window/contact-window.consumer';
import { outboundGatewayService } from './service';

@Module({})
export class AppModule {
  static forRoot(env: GatewayEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(outboundGatewayService, env)],
      controllers: [ContactWindowConsumer],
    };
  }
}
