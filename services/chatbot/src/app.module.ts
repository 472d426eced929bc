import { existsSync } from 'node:fs';
import { Module, type DynamicModule } from '@nestjs/common';
import { AuthModule } from '@wa/auth';
import { PlatformModule } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import { FlowsController } from './admin/flows.controller';
import { FlowsService } from './admin/flows.service';
import { SandboxFlowsLoader } from './admin/sandbox-flows.loader';
import { YamlBodyParser } from './admin/yaml-body';
import { SANDBOX_INTEGRATIONS_FILE, tenantsFileOf, type ChatbotEnv } from './config/env';
import { AccountEventsConsumer } from './conversation/account-events.consumer';
import { InboundConsumer } from './conversation/inbound.consumer';
import { OwnerConsumer } from './conversation/owner.consumer';
import { ResultsConsumer } from './conversation/results.consumer';
import { TurnService } from './conversation/turn.service';
import { Effects } from './effects/effects';
import { Integrations } from './effects/integrations';
import { MediaClient } from './effects/media.client';
import { tokenSourceFor } from './effects/service-tokens';
import { chatbotService } from './service';
import { CaseSequenceRepository } from './store/case-sequences.repository';
import { FlowCache } from './store/flow-cache';
import { FlowVersionRepository } from './store/flow-versions.repository';
import { OwnerRepository } from './store/owners.repository';
import { ProfileRepository } from './store/profiles.repository';
import { SessionRepository } from './store/sessions.repository';
import { SweeperService } from './timeouts/sweeper.service';
import { RetentionPruner } from './retention/retention.pruner';
import { CitizenErasureConsumer } from './retention/erasure.consumer';

export interface ChatbotOverrides {
  /** Tests replace the outside world (media API, integrations). */
  effects?: Effects;
}

/** The integrations file: given, else the sandbox one outside production when it is present. */
function integrationsFileOf(env: ChatbotEnv): string | undefined {
  if (env.CHATBOT_INTEGRATIONS_FILE) return env.CHATBOT_INTEGRATIONS_FILE;
  return env.NODE_ENV !== 'production' && existsSync(SANDBOX_INTEGRATIONS_FILE) ? SANDBOX_INTEGRATIONS_FILE : undefined;
}

@Module({})
export class AppModule {
  static forRoot(env: ChatbotEnv, overrides: ChatbotOverrides = {}): DynamicModule {
    // Loaded here, before anything connects, so a bad tenants or integrations file stops start-up.
    const registry = TenantRegistry.load(tenantsFileOf(env));
    const effects =
      overrides.effects ??
      new Effects(
        new MediaClient(env.MEDIA_API_URL, tokenSourceFor(env), env.CHATBOT_MEDIA_TIMEOUT_MS),
        Integrations.load(integrationsFileOf(env)),
      );
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(chatbotService, env), AuthModule.forRoot(env)],
      controllers: [CitizenErasureConsumer, InboundConsumer, OwnerConsumer, AccountEventsConsumer, ResultsConsumer, FlowsController],
      providers: [
        RetentionPruner,
        { provide: TenantRegistry, useValue: registry },
        { provide: Effects, useValue: effects },
        FlowVersionRepository,
        FlowCache,
        SessionRepository,
        OwnerRepository,
        ProfileRepository,
        CaseSequenceRepository,
        TurnService,
        FlowsService,
        SandboxFlowsLoader,
        SweeperService,
        YamlBodyParser,
      ],
    };
  }
}
