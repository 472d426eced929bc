import './tracing';
import { runService } from '@wa/service-kit';
import { AppModule } from './app.module';
import { ingressService } from './service';

runService(ingressService, (env) => AppModule.forRoot(env)).catch((error) => {
  process.stderr.write(`webhook-ingress failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
