import { runMigrateCommand } from '@wa/service-kit/migrate-command';
import { notificationSchedulerService } from './service';

void runMigrateCommand(notificationSchedulerService);
