import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuthModule } from '@wa/auth';
import { PlatformModule } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import type { TemplatesEnv } from './config/env';
import { ManagementBudget } from './meta/management-budget';
import { MetaTemplatesClient } from './meta/meta-templates.client';
import { RegistryService } from './registry/registry.service';
import { TemplatesController } from './registry/templates.controller';
import { templateRegistryService } from './service';
import { StarterLoader } from './starter/starter.loader';
import { SubmissionWorker } from './submission/submission.worker';
import { ImportService } from './sync/import.service';
import { TemplateEventConsumer } from './template-events/template-events.consumer';
import { RetentionPruner } from './retention/retention.pruner';
import { CitizenErasureConsumer } from './retention/erasure.consumer';

@Module({})
export class AppModule {
  static forRoot(env: TemplatesEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(templateRegistryService, env), AuthModule.forRoot(env)],
      controllers: [CitizenErasureConsumer, TemplatesController, TemplateEventConsumer],
      providers: [
        RetentionPruner,
        {
          provide: TenantRegistry,
          useFactory: () => {
            if (!env.TENANTS_FILE) throw new Error('TENANTS_FILE is required: the registry submits to each tenant’s WABA');
            return TenantRegistry.load(env.TENANTS_FILE);
          },
        },
        {
          provide: MetaTemplatesClient,
          inject: [TenantRegistry],
          useFactory: (tenants: TenantRegistry) => new MetaTemplatesClient(env.GRAPH_BASE_URL, tenants, env.TEMPLATES_META_TIMEOUT_MS),
        },
        {
          provide: ManagementBudget,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) =>
            new ManagementBudget(dataSource, env.TEMPLATES_MGMT_CALLS_PER_HOUR, env.TEMPLATES_CREATES_PER_HOUR),
        },
        RegistryService,
        ImportService,
        SubmissionWorker,
        StarterLoader,
      ],
    };
  }
}
