import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { registerMediaUploads } from '../media/media-upload.routes';
import type { SandboxContext } from '../sandbox-context';
import { authorize } from './graph-auth';
import { checkSend } from './send-validation';
import { sandboxTemplates } from '../templates/template-store';
import { sandboxState } from '../state/sandbox-state';
import { registerWindowRoutes, sandboxWindows } from './service-window';
import { httpStatusFor, metaError, OutboundSimulator, type ConfigPatch, type InjectionRule } from './outbound-simulator';

const simulators = new WeakMap<FastifyInstance, OutboundSimulator>();

/** The outbound simulator of a sandbox (tests and benchmarks read its records directly). */
export function outboundSimulatorOf(app: FastifyInstance): OutboundSimulator {
  const simulator = simulators.get(app);
  if (!simulator) throw new Error('this sandbox has no outbound simulator');
  return simulator;
}

const GRAPH_VERSION = /^v\d{1,2}\.\d$/;

function graphError(reply: FastifyReply, code: number, overrides: { message?: string; details?: string; http?: number } = {}) {
  return reply.status(overrides.http ?? httpStatusFor(code)).send(metaError(code, overrides));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * POST /{version}/{phone-number-id}/messages as Meta answers it, plus the control endpoints under
 * /sandbox/messages for tests and people: records, configuration, error injection, the "not on
 * WhatsApp" list, statistics.
 */
export async function registerMessages(app: FastifyInstance, context: SandboxContext): Promise<void> {
  const simulator = new OutboundSimulator(context);
  simulators.set(app, simulator);
  app.addHook('onClose', async () => simulator.close());
  const windows = sandboxWindows(context);
  // Meta remembers which numbers are not on WhatsApp; so does the sandbox, across restarts.
  const state = sandboxState(context);
  simulator.onChange = () => state.changed();
  state.section('notOnWhatsApp', {
    dump: () => [...simulator.notOnWhatsApp],
    restore: (data) => {
      if (!Array.isArray(data) || data.some((n) => typeof n !== 'string')) throw new Error('notOnWhatsApp must be a list of numbers');
      for (const n of data as string[]) simulator.notOnWhatsApp.add(n);
    },
  });

  app.post<{ Params: { version: string; phoneNumberId: string } }>('/:version/:phoneNumberId/messages', async (request, reply) => {
    const now = Date.now();
    const { version, phoneNumberId } = request.params;
    if (simulator.config.latencyMs > 0) await sleep(simulator.config.latencyMs);
    if (!GRAPH_VERSION.test(version))
      return graphError(reply, 2500, { message: `Unknown path components: /${version}`, details: 'Unknown Graph API version.' });
    const auth = authorize(context, request, phoneNumberId);
    if ('code' in auth) {
      simulator.reject(auth.code);
      return graphError(reply, auth.code, auth);
    }
    const body = request.body as Record<string, unknown> | undefined;

    // Mark as read (and typing indicator): no recipient, no message, no wamid.
    if (body && body.status === 'read') {
      if (body.messaging_product !== 'whatsapp')
        return graphError(reply, 100, { message: '(#100) The parameter messaging_product is required.' });
      if (typeof body.message_id !== 'string' || !body.message_id)
        return graphError(reply, 100, { message: '(#100) The parameter message_id is required.' });
      simulator.noteArrival(phoneNumberId, now);
      if (!simulator.admitThroughput(auth.phone, now)) {
        simulator.reject(130429);
        return graphError(reply, 130429);
      }
      return { success: true };
    }

    const check = checkSend(body);
    if ('problem' in check) {
      simulator.reject(check.problem.code);
      return graphError(reply, check.problem.code, { message: check.problem.message, details: check.problem.details });
    }
    const payload = body as Record<string, unknown>;
    if (check.type === 'template' && simulator.config.checkTemplates) {
      // Meta knows the WABA's templates: the name/language must exist, be approved, and the parameters fit.
      const verdict = sandboxTemplates(context).checkSend(auth.tenant.wabaId, payload.template);
      if (!verdict.ok) {
        simulator.reject(verdict.error.code);
        return graphError(reply, verdict.error.code, {
          message: verdict.error.message,
          details: verdict.error.details,
          http: verdict.httpStatus,
        });
      }
    }
    simulator.noteArrival(phoneNumberId, now);
    if (!simulator.admitThroughput(auth.phone, now)) {
      simulator.reject(130429);
      return graphError(reply, 130429);
    }
    const template = check.type === 'template' ? String((payload.template as { name?: string }).name) : undefined;
    const rule = simulator.matchRule(phoneNumberId, check.waId, check.type, template);
    if (rule && rule.mode === 'sync') {
      simulator.reject(rule.code);
      return graphError(reply, rule.code, { message: rule.message, details: rule.details, http: rule.httpStatus });
    }
    if (!simulator.admitPair(phoneNumberId, check.waId, now)) {
      simulator.reject(131056);
      return graphError(reply, 131056);
    }
    const unreachable = simulator.notOnWhatsApp.has(check.waId);
    if (unreachable && simulator.config.notOnWhatsApp.mode === 'sync') {
      simulator.reject(131026);
      return graphError(reply, 131026);
    }
    // Meta accepts a free-form message outside the customer-service window and then fails it (131047).
    const windowClosed = simulator.config.enforceWindow && check.type !== 'template' && !windows.isOpen(phoneNumberId, check.waId, now);
    const message = simulator.accept(auth.tenant, auth.phone, check, payload, now);
    if (rule) simulator.scheduleStatuses(message, { code: rule.code, message: rule.message, details: rule.details });
    else if (unreachable) simulator.scheduleStatuses(message, { code: 131026 });
    else if (windowClosed) simulator.scheduleStatuses(message, { code: 131047 });
    else simulator.scheduleStatuses(message);
    return {
      messaging_product: 'whatsapp',
      contacts: [{ input: check.input, wa_id: check.waId }],
      messages: [{ id: message.wamid, ...(check.type === 'template' ? { message_status: 'accepted' } : {}) }],
    };
  });

  // ---- control endpoints ----

  app.get<{ Querystring: { to?: string; phoneNumberId?: string; tenant?: string; since?: string; limit?: string; compact?: string } }>(
    '/sandbox/messages',
    async (request) => {
      const { to, phoneNumberId, tenant, since, limit, compact } = request.query;
      const digits = to?.replace(/\D/g, '');
      let list = simulator.sent.filter(
        (m) =>
          (!digits || m.waId === digits) &&
          (!phoneNumberId || m.phoneNumberId === phoneNumberId) &&
          (!tenant || m.tenantId === tenant) &&
          (!since || m.acceptedAt >= Date.parse(since)),
      );
      if (limit) list = list.slice(-Number(limit));
      if (compact === '1' || compact === 'true') {
        // Without payloads and statuses: what a benchmark needs for tens of thousands of messages.
        return {
          messages: list.map((m) => ({
            wamid: m.wamid,
            phoneNumberId: m.phoneNumberId,
            waId: m.waId,
            type: m.type,
            acceptedAt: m.acceptedAt,
            bizOpaqueCallbackData: m.bizOpaqueCallbackData,
            failure: m.failure,
          })),
        };
      }
      return { messages: list.map((m) => ({ ...m, acceptedAt: new Date(m.acceptedAt).toISOString() })) };
    },
  );

  app.get('/sandbox/messages/stats', async () => ({
    ...simulator.stats,
    perNumber: Object.fromEntries(
      [...simulator.arrivals].map(([phone, times]) => [
        phone,
        {
          arrivals: times.length,
          maxArrivalsInOneSecond: maxInWindow(times, 1000),
          maxAcceptedInOneSecond: maxInWindow(
            simulator.sent.filter((m) => m.phoneNumberId === phone).map((m) => m.acceptedAt),
            1000,
          ),
        },
      ]),
    ),
  }));

  // Cheap enough to poll: counters, and how late this process's event loop runs (a late loop
  // stamps requests later than they arrived, which bunches them in the throughput windows).
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  app.addHook('onClose', async () => loopDelay.disable());
  app.get('/sandbox/messages/count', async () => ({
    received: simulator.stats.received,
    accepted: simulator.stats.accepted,
    rejected: simulator.stats.rejected,
    eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
  }));

  // When each send request arrived (ms), per number: to check throughput over sliding windows.
  app.get<{ Querystring: { phoneNumberId?: string } }>('/sandbox/messages/arrivals', async (request, reply) => {
    const phone = request.query.phoneNumberId;
    if (!phone) return reply.status(400).send({ code: 'bad_request', message: 'phoneNumberId is required' });
    return { phoneNumberId: phone, arrivals: simulator.arrivals.get(phone) ?? [] };
  });

  app.get<{ Params: { wamid: string } }>('/sandbox/messages/by-wamid/:wamid', async (request, reply) => {
    const message = simulator.get(request.params.wamid);
    if (!message) return reply.status(404).send({ code: 'not_found', message: 'no such wamid' });
    return { ...message, acceptedAt: new Date(message.acceptedAt).toISOString() };
  });

  app.delete('/sandbox/messages', async () => {
    simulator.reset();
    return { reset: true };
  });

  app.get('/sandbox/messages/config', async () => simulator.config);
  app.put<{ Body: ConfigPatch }>('/sandbox/messages/config', async (request) => simulator.configure(request.body ?? {}));

  app.get('/sandbox/messages/errors', async () => ({ rules: simulator.rules }));
  app.post<{ Body: Partial<InjectionRule> }>('/sandbox/messages/errors', async (request, reply) => {
    const body = request.body ?? {};
    if (typeof body.code !== 'number' || !Number.isInteger(body.code))
      return reply.status(400).send({ code: 'bad_request', message: 'code (an integer Cloud API error code) is required' });
    if (body.percentage !== undefined && (typeof body.percentage !== 'number' || body.percentage < 0 || body.percentage > 100)) {
      return reply.status(400).send({ code: 'bad_request', message: 'percentage must be 0–100' });
    }
    if (body.mode !== undefined && body.mode !== 'sync' && body.mode !== 'async')
      return reply.status(400).send({ code: 'bad_request', message: 'mode is sync or async' });
    const rule = simulator.addRule({
      code: body.code,
      recipient: body.recipient,
      template: body.template,
      type: body.type,
      phoneNumberId: body.phoneNumberId,
      percentage: body.percentage,
      times: body.times,
      mode: body.mode,
      httpStatus: body.httpStatus,
      message: body.message,
      details: body.details,
    });
    return reply.status(201).send(rule);
  });
  app.delete('/sandbox/messages/errors', async () => {
    simulator.rules.length = 0;
    return { cleared: true };
  });
  app.delete<{ Params: { id: string } }>('/sandbox/messages/errors/:id', async (request, reply) =>
    simulator.removeRule(request.params.id)
      ? { removed: request.params.id }
      : reply.status(404).send({ code: 'not_found', message: 'no such rule' }),
  );

  app.get('/sandbox/messages/not-on-whatsapp', async () => ({ numbers: [...simulator.notOnWhatsApp] }));
  app.post<{ Body: { numbers?: string[] } }>('/sandbox/messages/not-on-whatsapp', async (request, reply) => {
    const numbers = request.body?.numbers;
    if (!Array.isArray(numbers) || numbers.some((n) => typeof n !== 'string'))
      return reply.status(400).send({ code: 'bad_request', message: 'numbers: string[] is required' });
    for (const n of numbers) simulator.notOnWhatsApp.add(n.replace(/\D/g, ''));
    simulator.onChange();
    return { numbers: [...simulator.notOnWhatsApp] };
  });
  app.delete('/sandbox/messages/not-on-whatsapp', async () => {
    simulator.notOnWhatsApp.clear();
    simulator.onChange();
    return { cleared: true };
  });

  registerWindowRoutes(app, context);
  await registerMediaUploads(app, context);
}

/** The largest number of timestamps inside any window of `ms` (a sliding window over sorted times). */
export function maxInWindow(times: number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= ms) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
