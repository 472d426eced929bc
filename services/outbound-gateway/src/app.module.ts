import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuthModule } from '@wa/auth';
import { PlatformModule } from '@wa/service-kit';
import { MediaBodyParser, MediaController } from './api/media.controller';
import { MessagesController } from './api/messages.controller';
import { GraphClient } from './cloud-api/graph-client';
import type { GatewayEnv } from './config/env';
import { ContactWindowConsumer } from './contact-window/contact-window.consumer';
import { Dispatcher } from './dispatch/dispatcher';
import { MediaService } from './media/media.service';
import { ConsentConsumer } from './read-models/consent.consumer';
import { TemplateCatalogConsumer } from './read-models/template-catalog.consumer';
import { OutboundIntake } from './requests/outbound-intake';
import { outboundGatewayService } from './service';
import { MessageStatusConsumer } from './statuses/message-status.consumer';
import { TenantDirectory } from './tenancy/tenant-directory';
import { RetentionPruner } from './retention/retention.pruner';
import { ErasureController } from './retention/erasure.controller';
import { CitizenErasureConsumer } from './retention/erasure.consumer';

@Module({})
export class AppModule {
  static forRoot(env: GatewayEnv): DynamicModule {
    // Fails start-up with a clear message when the file is missing or invalid.
    const tenants = TenantDirectory.fromFile(env.TENANTS_FILE);
    const graph = new GraphClient(env.GRAPH_BASE_URL, env.SEND_TIMEOUT_MS);
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(outboundGatewayService, env), AuthModule.forRoot(env)],
      controllers: [
        CitizenErasureConsumer,
        ErasureController,
        ContactWindowConsumer,
        ConsentConsumer,
        TemplateCatalogConsumer,
        MessagesController,
        MediaController,
      ],
      providers: [
        RetentionPruner,
        { provide: TenantDirectory, useValue: tenants },
        { provide: GraphClient, useValue: graph },
        {
          provide: MediaService,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => new MediaService(dataSource, graph, tenants, env),
        },
        MediaBodyParser,
        Dispatcher,
        // Batch consumers (registered with the consumer host directly: one statement per fetched batch).
        OutboundIntake,
        MessageStatusConsumer,
      ],
    };
  }
}
