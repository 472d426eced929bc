import './tracing';
import { runService } from '@wa/service-kit';
import { AppModule } from './app.module';
import { chatbotService } from './service';

runService(chatbotService, (env) => AppModule.forRoot(env)).catch((error) => {
  process.stderr.write(`chatbot failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
