import { Module, type DynamicModule } from '@nestjs/common';
import { AuthModule } from '@wa/auth';
import { PlatformModule } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import type { IngressEnv } from './config/env';
import { MediaController } from './media/media.controller';
import { MediaService } from './media/media.service';
import { NormalizedEventStore } from './normalizer/normalized-event.store';
import { RawWebhookProcessor } from './normalizer/raw-webhook.processor';
import { RetentionPruner } from './normalizer/retention-pruner';
import { CitizenErasureConsumer } from './retention/erasure.consumer';
import { RetentionPruner as TenantRetentionPruner } from './retention/retention.pruner';
import { RawArchive } from './raw-archive/raw-archive';
import { ingressService } from './service';
import { loadIngressTenants } from './tenants/ingress-tenants';
import { AppCredentials } from './webhook/app-credentials';
import { DurablePublisher, webhookProducerProvider } from './webhook/durable-publisher';
import { WebhookController } from './webhook/webhook.controller';
import { WebhookHttpSetup } from './webhook/webhook-http';
import { WebhookReceiver } from './webhook/webhook-receiver';

@Module({})
export class AppModule {
  static forRoot(env: IngressEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(ingressService, env), AuthModule.forRoot(env)],
      controllers: [WebhookController, MediaController],
      providers: [
        { provide: TenantRegistry, useFactory: () => loadIngressTenants(env) },
        AppCredentials,
        webhookProducerProvider,
        DurablePublisher,
        WebhookReceiver,
        WebhookHttpSetup,
        RawArchive,
        NormalizedEventStore,
        // The raw topic's batch consumer (archive + normalizer); registers itself unless INGRESS_CONSUMERS=false.
        RawWebhookProcessor,
        RetentionPruner,
        TenantRetentionPruner,
        CitizenErasureConsumer,
        MediaService,
      ],
    };
  }
}
