import { startTracing } from '@wa/observability/tracing';

startTracing({ serviceName: 'handoff-router' });
