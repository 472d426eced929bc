import { runMigrateCommand } from '@wa/service-kit/migrate-command';
import { templateRegistryService } from './service';

void runMigrateCommand(templateRegistryService);
