import Fastify, { type FastifyInstance } from 'fastify';
import type { SandboxContext } from './sandbox-context';
import { registerAgency } from './agency/agency.routes';
import { registerInbound } from './inbound/inbound.routes';
import { registerMessages } from './messages/messages.routes';
import { registerTemplates } from './templates/templates.routes';

/**
 * The Cloud API simulator: a real HTTP server standing in for graph.facebook.com. Each part owns
 * its routes: inbound (citizen messages → signed webhooks), messages (sends, statuses, error
 * injection) and templates (management API, status webhooks).
 */
export async function buildSandbox(context: SandboxContext): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 110 * 1024 * 1024 });
  app.get('/health', async () => ({ status: 'ok' }));
  await registerInbound(app, context);
  await registerMessages(app, context);
  await registerTemplates(app, context);
  await registerAgency(app);
  return app;
}
