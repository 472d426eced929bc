import './tracing';
import { runService } from '@wa/service-kit';
import { AppModule } from './app.module';
import { notificationSchedulerService } from './service';

runService(notificationSchedulerService, (env) => AppModule.forRoot(env)).catch((error) => {
  process.stderr.write(`notification-scheduler failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
