import { startTracing } from '@wa/observability/tracing';
import { usesAsyncContext } from './receiver-role';
import { isWebhookPost } from './webhook/webhook-route';

startTracing({
  serviceName: 'webhook-ingress',
  ignoreIncomingRequest: isWebhookPost,
  asyncContext: usesAsyncContext(process.env.INGRESS_CONSUMERS),
});
