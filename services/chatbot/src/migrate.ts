import { runMigrateCommand } from '@wa/service-kit/migrate-command';
import { chatbotService } from './service';

void runMigrateCommand(chatbotService);
