import { runMigrateCommand } from '@wa/service-kit/migrate-command';
import { ingressService } from './service';

void runMigrateCommand(ingressService);
