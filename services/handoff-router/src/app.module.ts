import { Module, type DynamicModule } from '@nestjs/common';
import { AuthModule } from '@wa/auth';
import { PlatformModule } from '@wa/service-kit';
import { Access } from './api/access';
import { AgentsController } from './api/agents.controller';
import { ConversationsController } from './api/conversations.controller';
import { DeflectionsController } from './api/deflections.controller';
import { StreamController } from './api/stream.controller';
import type { HandoffEnv } from './config/env';
import { ConsoleModule } from './console/console-static';
import { HandoffConsumer } from './consumers/handoff.consumer';
import { AgentWorkService } from './routing/agent-work.service';
import { DeflectionService } from './routing/deflection.service';
import { RouterService } from './routing/router.service';
import { SweeperService } from './routing/sweeper.service';
import { SampleLoader } from './sample/sample.loader';
import { handoffRouterService } from './service';
import { AgentRepository } from './store/agents.repository';
import { CannedRepository } from './store/canned.repository';
import { ConsoleEventRepository } from './store/console-events.repository';
import { ConversationRepository } from './store/conversations.repository';
import { DeflectionRepository } from './store/deflections.repository';
import { DepartmentRepository } from './store/departments.repository';
import { MessageRepository } from './store/messages.repository';
import { OwnerRepository } from './store/owners.repository';
import { SettingsRepository } from './store/settings.repository';
import { TemplateRepository } from './store/templates.repository';
import { StreamHub } from './stream/stream.hub';
import { CitizenErasureConsumer } from './retention/erasure.consumer';

@Module({})
export class AppModule {
  static forRoot(env: HandoffEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(handoffRouterService, env), AuthModule.forRoot(env), ConsoleModule],
      controllers: [
        CitizenErasureConsumer,
        HandoffConsumer,
        ConversationsController,
        AgentsController,
        DeflectionsController,
        StreamController,
      ],
      providers: [
        AgentRepository,
        CannedRepository,
        ConsoleEventRepository,
        ConversationRepository,
        DeflectionRepository,
        DepartmentRepository,
        MessageRepository,
        OwnerRepository,
        SettingsRepository,
        TemplateRepository,
        RouterService,
        AgentWorkService,
        DeflectionService,
        SweeperService,
        StreamHub,
        Access,
        SampleLoader,
      ],
    };
  }
}
