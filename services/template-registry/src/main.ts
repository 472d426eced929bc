import './tracing';
import { runService } from '@wa/service-kit';
import { AppModule } from './app.module';
import { templateRegistryService } from './service';

runService(templateRegistryService, (env) => AppModule.forRoot(env)).catch((error) => {
  process.stderr.write(`template-registry failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
