import { runMigrateCommand } from '@wa/service-kit/migrate-command';
import { handoffRouterService } from './service';

void runMigrateCommand(handoffRouterService);
