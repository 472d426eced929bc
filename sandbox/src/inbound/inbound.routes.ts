import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SandboxContext } from '../sandbox-context';
import type { DeliveryOptions } from '../webhook-sender';
import { uploadedMediaOf, type UploadedMedia } from '../media/media-upload.routes';
import { sandboxWindows } from '../messages/service-window';
import { outboundSimulatorOf } from '../messages/messages.routes';
import { SandboxMediaStore } from './media-store';
import {
  buildEnvelope,
  buildMessage,
  SpecError,
  type BatchLayout,
  type BuiltMessage,
  type InboundMessageSpec,
  type LastSentLookup,
} from './message-builder';

export interface DeliverySpec {
  /** Extra identical deliveries after the first 200 (Meta's duplicates). */
  duplicates?: number;
  /** Tries after the first on a non-200 answer (Meta keeps retrying for days). */
  retries?: number;
  /** First pause between tries; doubles each time, up to 30 s. */
  initialBackoffMs?: number;
  timeoutMs?: number;
  /** false: answer 202 at once and deliver in the background (see GET /sandbox/inbound/deliveries/:id). */
  wait?: boolean;
}

export interface DeliveryRecord {
  id: string;
  appId: string;
  state: 'pending' | 'delivered' | 'failed';
  wamids: string[];
  attempts?: number;
  /** HTTP status of each POST to the ingress, in order (0 = no answer). */
  statuses?: number[];
  startedAt: string;
  finishedAt?: string;
}

const SPEC_KEYS = new Set([
  'tenant',
  'phoneNumberId',
  'from',
  'userId',
  'profileName',
  'type',
  'id',
  'timestamp',
  'text',
  'media',
  'location',
  'contacts',
  'interactive',
  'button',
  'reaction',
  'order',
  'system',
  'unsupported',
  'context',
  'referral',
  'extra',
]);
const DELIVERY_KEYS = new Set(['duplicates', 'retries', 'initialBackoffMs', 'timeoutMs', 'wait']);
const LAYOUTS: BatchLayout[] = ['single-change', 'change-per-message', 'entry-per-message'];
const MAX_KEPT_DELIVERIES = 1000;

function unknownKeys(value: unknown, allowed: Set<string>, where: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SpecError(`${where} must be an object`);
  const extra = Object.keys(value).filter((k) => !allowed.has(k));
  if (extra.length) throw new SpecError(`${where}: unknown field(s) ${extra.join(', ')}`);
}

function checkDelivery(value: unknown): DeliverySpec {
  if (value === undefined) return {};
  unknownKeys(value, DELIVERY_KEYS, 'delivery');
  const d = value as DeliverySpec;
  const bounded = (n: number | undefined, name: string, max: number) => {
    if (n !== undefined && (!Number.isInteger(n) || n < 0 || n > max)) throw new SpecError(`delivery.${name} must be an integer 0..${max}`);
  };
  bounded(d.duplicates, 'duplicates', 10);
  bounded(d.retries, 'retries', 30);
  bounded(d.initialBackoffMs, 'initialBackoffMs', 60000);
  bounded(d.timeoutMs, 'timeoutMs', 120000);
  if (d.wait !== undefined && typeof d.wait !== 'boolean') throw new SpecError('delivery.wait must be a boolean');
  return d;
}

function checkSpec(value: unknown, where: string): InboundMessageSpec {
  unknownKeys(value, SPEC_KEYS, where);
  const spec = value as InboundMessageSpec;
  if (typeof spec.type !== 'string' || !/^[a-z_]{1,32}$/.test(spec.type)) throw new SpecError(`${where}.type must be a message type`);
  for (const key of ['tenant', 'phoneNumberId', 'from', 'userId', 'profileName', 'id', 'text'] as const) {
    if (spec[key] !== undefined && typeof spec[key] !== 'string') throw new SpecError(`${where}.${key} must be a string`);
  }
  if (spec.timestamp !== undefined && !Number.isInteger(spec.timestamp)) throw new SpecError(`${where}.timestamp must be Unix seconds`);
  return spec;
}

/**
 * The inbound side of the Cloud API simulator: a test or a person injects a citizen message (any
 * type), the sandbox builds Meta's envelope, escapes and signs it like Meta, and delivers it to the
 * ingress with Meta's retry behaviour (and duplicates when asked).
 */
export async function registerInbound(root: FastifyInstance, context: SandboxContext): Promise<void> {
  // An encapsulated plugin: the error handler below applies to these routes only, not to the
  // other parts of the simulator.
  // Uploads are registered on the root instance by the messages part (after this one): looked up per request.
  // So is the outbound simulator, whose records say which message a button or list reply answers.
  const lastSent: LastSentLookup = (phoneNumberId, waId, kind) => outboundSimulatorOf(root).lastSentTo(phoneNumberId, waId, kind);
  await root.register(async (app) => inboundRoutes(app, context, () => uploadedMediaOf(root), lastSent));
}

async function inboundRoutes(
  app: FastifyInstance,
  context: SandboxContext,
  uploaded: () => ReadonlyMap<string, UploadedMedia>,
  lastSent: LastSentLookup,
): Promise<void> {
  const media = new SandboxMediaStore(context.tenants, uploaded);
  const deliveries = new Map<string, DeliveryRecord>();
  const windows = sandboxWindows(context);
  /**
   * A citizen's message opens (or extends) the customer-service window with that business number
   * from the moment they sent it, whether or not the webhook reaches the ingress: Meta keeps the
   * window on its side. A number change notice is not the citizen writing.
   */
  const noteWindows = (built: BuiltMessage[]) => {
    for (const b of built) {
      if (b.message.type === 'system') continue;
      const citizen = b.message.from ? String(b.message.from) : b.message.from_user_id ? `bsuid:${String(b.message.from_user_id)}` : '';
      if (citizen) windows.open(b.phone.id, citizen, Number(b.message.timestamp) * 1000);
    }
  };
  media.routes(app);
  // Media URLs in webhooks point back at this server, as the ingress reaches it.
  app.addHook('onRequest', async (request) => {
    media.publicBaseUrl = `${request.protocol}://${request.headers.host ?? '127.0.0.1'}`;
  });

  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    if (error instanceof SpecError) return reply.status(400).send({ code: 'bad_request', message: error.message });
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    return reply.status(status).send({ code: status === 500 ? 'internal' : 'bad_request', message: error.message });
  });

  async function deliver(appId: string, payload: unknown, wamids: string[], spec: DeliverySpec, reply: FastifyReply) {
    const secret = context.tenants.appSecrets(appId)[0];
    if (!secret) throw new SpecError(`app ${appId} has no secret configured`);
    const record: DeliveryRecord = { id: randomUUID(), appId, state: 'pending', wamids, startedAt: new Date().toISOString() };
    deliveries.set(record.id, record);
    if (deliveries.size > MAX_KEPT_DELIVERIES) deliveries.delete(deliveries.keys().next().value!);
    const options: DeliveryOptions = {
      retries: spec.retries,
      initialBackoffMs: spec.initialBackoffMs,
      duplicates: spec.duplicates,
      timeoutMs: spec.timeoutMs,
    };
    const run = context.webhooks.deliver(context.webhookPath(appId), payload, secret, options).then(
      (result) =>
        Object.assign(record, { state: result.delivered ? 'delivered' : 'failed', ...result, finishedAt: new Date().toISOString() }),
      (error: Error) =>
        Object.assign(record, { state: 'failed', statuses: [], finishedAt: new Date().toISOString(), error: error.message }),
    );
    if (spec.wait === false) return reply.status(202).send({ delivery: record, payload });
    await run;
    return reply.send({ delivery: record, payload });
  }

  app.post<{ Body: InboundMessageSpec & { delivery?: DeliverySpec } }>('/sandbox/inbound/messages', async (request, reply) => {
    const { delivery, ...rest } = (request.body ?? {}) as InboundMessageSpec & { delivery?: unknown };
    const spec = checkSpec(rest, 'message');
    const deliverySpec = checkDelivery(delivery);
    const built = buildMessage(context.tenants, spec, media, lastSent);
    const { appId, payload } = buildEnvelope([built]);
    noteWindows([built]);
    return deliver(appId, payload, [built.wamid], deliverySpec, reply);
  });

  app.post<{ Body: { messages?: unknown[]; layout?: BatchLayout; delivery?: DeliverySpec } }>(
    '/sandbox/inbound/batch',
    async (request, reply) => {
      const body = request.body ?? {};
      unknownKeys(body, new Set(['messages', 'layout', 'delivery']), 'batch');
      if (!Array.isArray(body.messages) || body.messages.length === 0 || body.messages.length > 1000) {
        throw new SpecError('batch.messages must hold 1..1000 messages (Meta sends at most 1000 updates per POST)');
      }
      if (body.layout !== undefined && !LAYOUTS.includes(body.layout))
        throw new SpecError(`batch.layout must be one of ${LAYOUTS.join(', ')}`);
      const built = body.messages.map((m, i) => buildMessage(context.tenants, checkSpec(m, `messages[${i}]`), media, lastSent));
      const { appId, payload } = buildEnvelope(built, body.layout);
      noteWindows(built);
      return deliver(
        appId,
        payload,
        built.map((b) => b.wamid),
        checkDelivery(body.delivery),
        reply,
      );
    },
  );

  // Any envelope (statuses, template updates, malformed shapes...), signed and delivered like Meta.
  app.post<{ Body: { appId?: string; tenant?: string; payload?: unknown; delivery?: DeliverySpec } }>(
    '/sandbox/inbound/webhooks',
    async (request, reply) => {
      const body = request.body ?? {};
      unknownKeys(body, new Set(['appId', 'tenant', 'payload', 'delivery']), 'webhook');
      const appId = body.appId ?? (body.tenant ? context.tenants.tenant(body.tenant)?.appId : undefined);
      if (!appId || !context.tenants.app(appId)) throw new SpecError('a known appId or tenant is required');
      if (body.payload === undefined) throw new SpecError('payload is required');
      return deliver(appId, body.payload, [], checkDelivery(body.delivery), reply);
    },
  );

  app.get<{ Params: { id: string } }>('/sandbox/inbound/deliveries/:id', async (request, reply) => {
    const record = deliveries.get(request.params.id);
    return record ?? reply.status(404).send({ code: 'not_found', message: 'no such delivery' });
  });

  // A file "uploaded" by a citizen without sending a message: for testing the media fetch path.
  app.post<{ Body: { tenant?: string; phoneNumberId?: string; type?: string; mimeType?: string; dataBase64?: string } }>(
    '/sandbox/media',
    async (request) => {
      const body = request.body ?? {};
      unknownKeys(body, new Set(['tenant', 'phoneNumberId', 'type', 'mimeType', 'dataBase64']), 'media');
      const tenant = body.tenant ? context.tenants.tenant(body.tenant) : undefined;
      if (!tenant) throw new SpecError('a known tenant is required');
      const phoneNumberId = body.phoneNumberId ?? tenant.phoneNumbers[0].id;
      if (!tenant.phoneNumbers.some((p) => p.id === phoneNumberId)) throw new SpecError(`${phoneNumberId} is not ${tenant.id}'s number`);
      const registered = media.register(tenant.id, phoneNumberId, body.type ?? 'document', {
        mimeType: body.mimeType ?? 'application/octet-stream',
        dataBase64: body.dataBase64,
      });
      return { id: registered.mediaId, mimeType: registered.mimeType, sha256: registered.sha256 };
    },
  );

  app.delete<{ Params: { id: string } }>('/sandbox/media/:id', async (request, reply) =>
    media.expire(request.params.id) ? reply.status(204).send() : reply.status(404).send({ code: 'not_found', message: 'no such media' }),
  );
}
