import { Module, type DynamicModule } from '@nestjs/common';
import { PlatformModule } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import type { IngressEnv } from './config/env';
import { MediaController } from './media/media.controller';
import { MediaService } from './media/media.service';
import { DedupePruner } from './normalizer/dedupe-pruner';
import { NormalizedEventStore } from './normalizer/normalized-event.store';
import { NormalizerConsumer } from './normalizer/normalizer.consumer';
import { RawArchiveConsumer } from './raw-archive/raw-archive.consumer';
import { ingressService } from './service';
import { loadIngressTenants } from './tenants/ingress-tenants';
import { AppCredentials } from './webhook/app-credentials';
import { DurablePublisher } from './webhook/durable-publisher';
import { WebhookController } from './webhook/webhook.controller';
import { WebhookHttpSetup } from './webhook/webhook-http';

@Module({})
export class AppModule {
  static forRoot(env: IngressEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(ingressService, env)],
      // Both consumers handle the raw topic (Nest runs every @EventPattern handler of a pattern):
      // the archive keeps the audit copy, the normalizer emits the typed events.
      controllers: [WebhookController, MediaController, RawArchiveConsumer, NormalizerConsumer],
      providers: [
        { provide: TenantRegistry, useFactory: () => loadIngressTenants(env) },
        AppCredentials,
        DurablePublisher,
        WebhookHttpSetup,
        NormalizedEventStore,
        DedupePruner,
        MediaService,
      ],
    };
  }
}
