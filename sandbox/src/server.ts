import Fastify, { type FastifyInstance } from 'fastify';
import type { SandboxContext } from './sandbox-context';
import { registerAgency } from './agency/agency.routes';
import { registerInbound } from './inbound/inbound.routes';
import { registerMessages } from './messages/messages.routes';
import { registerTemplates } from './templates/templates.routes';
import { sandboxState } from './state/sandbox-state';

/**
 * The Cloud API simulator: a real HTTP server standing in for graph.facebook.com. Each part owns
 * its routes: inbound (citizen messages → signed webhooks), messages (sends, statuses, error
 * injection, customer-service windows) and templates (management API, status webhooks). With a
 * state directory it keeps across restarts what Meta keeps (see `state/sandbox-state.ts`).
 */
export async function buildSandbox(context: SandboxContext): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 110 * 1024 * 1024 });
  app.get('/health', async () => ({ status: 'ok' }));
  // What Meta would remember across a restart comes back once every part has registered its section.
  const state = sandboxState(context);
  app.addHook('onReady', async () => void state.load());
  app.addHook('onClose', async () => state.flush());
  await registerInbound(app, context);
  await registerMessages(app, context);
  await registerTemplates(app, context);
  await registerAgency(app);
  return app;
}
