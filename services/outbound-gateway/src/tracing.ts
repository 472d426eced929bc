import { startTracing } from '@wa/observability/tracing';

startTracing({ serviceName: 'outbound-gateway' });
