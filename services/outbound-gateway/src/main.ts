import './tracing';
import { runService } from '@wa/service-kit';
import { AppModule } from './app.module';
import { outboundGatewayService } from './service';

runService(outboundGatewayService, (env) => AppModule.forRoot(env)).catch((error) => {
  process.stderr.write(`outbound-gateway failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
