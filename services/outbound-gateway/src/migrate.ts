import { runMigrateCommand } from '@wa/service-kit/migrate-command';
import { outboundGatewayService } from './service';

void runMigrateCommand(outboundGatewayService);
