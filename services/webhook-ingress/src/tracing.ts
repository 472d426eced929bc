import { startTracing } from '@wa/observability/tracing';
import { isWebhookPost } from './webhook/webhook-route';

startTracing({ serviceName: 'webhook-ingress', ignoreIncomingRequest: isWebhookPost });
