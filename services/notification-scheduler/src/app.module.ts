import { existsSync } from 'node:fs';
import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuthModule } from '@wa/auth';
import { PlatformModule } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import { Clock, SystemClock } from './common/clock';
import { SANDBOX_POLICIES_FILE, tenantsFileOf, type SchedulerEnv } from './config/env';
import { ConsentConsumer } from './consent/consent.consumer';
import { DispatchService } from './dispatch/dispatch.service';
import { NoticesController } from './notices/notices.controller';
import { NoticesService } from './notices/notices.service';
import { OutcomeConsumer } from './outcome/outcome.consumer';
import { PlanningService } from './planning/planning.service';
import { PreferenceConsumer } from './preferences/preference.consumer';
import { PolicyController } from './policy/policy.controller';
import type { SchedulerPolicyInput } from './policy/policy.model';
import { CONFIG_POLICIES, loadPolicyFile, PolicyService } from './policy/policy.service';
import { RejectedEventsCounter } from './rejections/rejected-events';
import { notificationSchedulerService } from './service';
import { TemplateCatalogConsumer } from './template-catalog/template-catalog.consumer';
import { RetentionPruner } from './retention/retention.pruner';
import { CitizenErasureConsumer } from './retention/erasure.consumer';

export interface SchedulerOverrides {
  /** Tests and the benchmark pass a ManualClock. */
  clock?: Clock;
}

/** The policies file: given, else the sandbox one outside production when it is present. */
function configPolicies(env: SchedulerEnv, registry: TenantRegistry): Map<string, SchedulerPolicyInput> {
  if (env.SCHEDULER_POLICIES_FILE) return loadPolicyFile(env.SCHEDULER_POLICIES_FILE, registry);
  if (env.NODE_ENV !== 'production' && existsSync(SANDBOX_POLICIES_FILE)) return loadPolicyFile(SANDBOX_POLICIES_FILE, registry);
  return new Map();
}

@Module({})
export class AppModule {
  static forRoot(env: SchedulerEnv, overrides: SchedulerOverrides = {}): DynamicModule {
    // Loaded here, before anything connects, so a bad tenants or policies file stops start-up.
    const registry = TenantRegistry.load(tenantsFileOf(env));
    const policies = configPolicies(env, registry);
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(notificationSchedulerService, env), AuthModule.forRoot(env)],
      controllers: [
        CitizenErasureConsumer,
        TemplateCatalogConsumer,
        ConsentConsumer,
        PreferenceConsumer,
        OutcomeConsumer,
        PolicyController,
        NoticesController,
      ],
      providers: [
        RetentionPruner,
        { provide: Clock, useValue: overrides.clock ?? new SystemClock() },
        { provide: TenantRegistry, useValue: registry },
        { provide: CONFIG_POLICIES, useValue: policies },
        {
          provide: PolicyService,
          inject: [DataSource, TenantRegistry, CONFIG_POLICIES],
          useFactory: (ds: DataSource, reg: TenantRegistry, config: Map<string, SchedulerPolicyInput>) =>
            new PolicyService(ds, reg, config),
        },
        PlanningService,
        DispatchService,
        NoticesService,
        RejectedEventsCounter,
      ],
    };
  }
}
