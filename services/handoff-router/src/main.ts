import './tracing';
import { runService } from '@wa/service-kit';
import { AppModule } from './app.module';
import { handoffRouterService } from './service';

runService(handoffRouterService, (env) => AppModule.forRoot(env)).catch((error) => {
  process.stderr.write(`handoff-router failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
