import { startTracing } from '@wa/observability/tracing';

startTracing({ serviceName: 'template-registry' });
