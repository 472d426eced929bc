import { startTracing } from '@wa/observability/tracing';

startTracing({ serviceName: 'chatbot' });
