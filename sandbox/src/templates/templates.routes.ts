import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TenantConfig } from '@wa/tenancy';
import { validateTemplateDefinition } from '@wa/templates';
import type { SandboxContext } from '../sandbox-context';
import { sandboxState } from '../state/sandbox-state';
import { sandboxTemplates, type ReviewRule, type SandboxTemplate, type SandboxTemplateStore } from './template-store';

export { sandboxTemplates, SandboxTemplateStore } from './template-store';
export type { ReviewRule, SandboxTemplate, SendCheck } from './template-store';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const VERSION = /^v\d{2}\.0$/;
const EDITABLE = new Set(['APPROVED', 'REJECTED', 'PAUSED']);
let traces = 0;

/** Graph's error envelope. */
function graphError(reply: FastifyReply, status: number, code: number, message: string, extra: Obj = {}) {
  return reply.status(status).send({
    error: {
      message,
      type: code === 190 ? 'OAuthException' : 'GraphMethodException',
      code,
      ...extra,
      fbtrace_id: `SandboxTrace${++traces}`,
    },
  });
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

/** The token must be the tenant's own system-user token, as at Meta. */
function authorized(
  context: SandboxContext,
  tenant: TenantConfig | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
): tenant is TenantConfig {
  if (!tenant) {
    void graphError(reply, 400, 100, 'Unsupported request - object does not exist or cannot be loaded', { error_subcode: 33 });
    return false;
  }
  let expected: string | undefined;
  try {
    expected = context.tenants.secret(tenant.accessTokenRef);
  } catch {
    expected = undefined;
  }
  if (!expected || bearer(request) !== expected) {
    void graphError(reply, 401, 190, 'Invalid OAuth access token - Cannot parse access token');
    return false;
  }
  return true;
}

/** `message_template_*` webhook for a template, signed with the app secret, posted to the ingress. */
function notify(context: SandboxContext, store: SandboxTemplateStore, t: SandboxTemplate, field: string, value: Obj): Promise<unknown> {
  const tenant = context.tenants.tenantByWabaId(t.wabaId);
  const record = { wabaId: t.wabaId, field, value } as SandboxTemplateStore['webhooks'][number];
  store.webhooks.push(record);
  if (!tenant) return Promise.resolve();
  const secret = context.tenants.appSecrets(tenant.appId)[0];
  const payload = {
    object: 'whatsapp_business_account',
    entry: [{ id: t.wabaId, time: Math.floor(Date.now() / 1000), changes: [{ field, value }] }],
  };
  return store.track(
    context.webhooks.deliver(context.webhookPath(tenant.appId), payload, secret, { retries: 3, initialBackoffMs: 200 }).then((result) => {
      record.result = result;
      return result;
    }),
  );
}

function templateRef(t: SandboxTemplate): Obj {
  // Meta's webhook carries the id as a JSON number (our ids stay below 2^53).
  return { message_template_id: Number(t.id), message_template_name: t.name, message_template_language: t.language };
}

/** Status change + the webhook Meta would send for it. */
function setStatus(
  context: SandboxContext,
  store: SandboxTemplateStore,
  t: SandboxTemplate,
  event: string,
  extra: Obj = {},
): Promise<unknown> {
  const statusByEvent: Record<string, string> = { REINSTATED: 'APPROVED', FLAGGED: t.status, LOCKED: t.status };
  t.status = statusByEvent[event] ?? event;
  t.updatedAt = new Date().toISOString();
  t.reason = typeof extra.reason === 'string' && extra.reason !== 'NONE' ? extra.reason : undefined;
  store.onChange();
  return notify(context, store, t, 'message_template_status_update', {
    event,
    ...templateRef(t),
    message_template_category: t.category,
    reason: 'NONE',
    ...extra,
  });
}

/** The simulated review: after the rule's delay, APPROVED or REJECTED (with Meta's reason). */
function review(context: SandboxContext, store: SandboxTemplateStore, t: SandboxTemplate): void {
  const rule = store.ruleFor(t);
  const reviewed = new Promise<void>((resolve) => setTimeout(resolve, rule.delayMs ?? 50)).then(() => {
    if (store.templates.get(t.id) !== t || t.status !== 'PENDING') return undefined;
    if (rule.category) t.category = rule.category;
    if (rule.outcome === 'APPROVED') return setStatus(context, store, t, 'APPROVED');
    return setStatus(context, store, t, 'REJECTED', {
      reason: rule.reason ?? 'INVALID_FORMAT',
      ...(rule.rejectionInfo ? { rejection_info: rule.rejectionInfo } : {}),
    });
  });
  store.track(reviewed);
}

function view(t: SandboxTemplate, fields: string | undefined): Obj {
  const full: Obj = {
    id: t.id,
    name: t.name,
    language: t.language,
    status: t.status,
    category: t.category,
    parameter_format: t.parameterFormat.toUpperCase(),
    components: t.components,
    quality_score: { score: t.qualityScore, date: Math.floor(Date.parse(t.updatedAt) / 1000) },
    ...(t.reason ? { rejected_reason: t.reason } : { rejected_reason: 'NONE' }),
  };
  if (!fields) return { id: t.id, name: t.name, language: t.language, status: t.status, category: t.category };
  const wanted = new Set(['id', ...fields.split(',').map((f) => f.trim())]);
  return Object.fromEntries(Object.entries(full).filter(([k]) => wanted.has(k)));
}

/**
 * Meta's template management API as the simulator plays it:
 * - `POST /{v}/{waba-id}/message_templates` → `{ id, status: PENDING, category }`, then (after the
 *   configured review) a signed `message_template_status_update` webhook: APPROVED, or REJECTED
 *   with a reason, per the review rules a test sets.
 * - `GET /{v}/{waba-id}/message_templates` (fields, limit, after, name, status; cursor paging),
 *   `DELETE /{v}/{waba-id}/message_templates` (name, optional hsm_id),
 *   `POST /{v}/{template-id}` (edit), `POST /{v}/{template-id}/unpause`.
 * Control (not Meta): `/sandbox/templates/*` to set review rules, push status, quality and
 * category events, list stored templates and webhooks, and check a template send.
 */
export async function registerTemplates(app: FastifyInstance, context: SandboxContext): Promise<void> {
  const store = sandboxTemplates(context);
  app.addHook('onClose', async () => store.settle());
  // Meta keeps a WABA's templates for good: so does the sandbox, across restarts. A template still
  // in review when the sandbox stopped is reviewed again once it is back.
  const state = sandboxState(context);
  store.onChange = () => state.changed();
  state.section('templates', {
    dump: () => store.dump(),
    restore: (data) => {
      for (const t of store.restore(data)) if (t.status === 'PENDING') review(context, store, t);
    },
  });

  app.post<{ Params: { version: string; wabaId: string }; Body: unknown }>(
    '/:version/:wabaId/message_templates',
    async (request, reply) => {
      const { version, wabaId } = request.params;
      if (!VERSION.test(version)) return graphError(reply, 400, 2500, `Unknown path components: /${version}`);
      const tenant = context.tenants.tenantByWabaId(wabaId);
      if (!authorized(context, tenant, request, reply)) return reply;
      const body = request.body;
      if (!isObj(body)) return graphError(reply, 400, 100, 'Invalid parameter', { error_user_msg: 'The body must be a JSON object' });
      const parameterFormat = String(body.parameter_format ?? 'positional').toLowerCase();
      const definition = {
        name: String(body.name ?? ''),
        language: String(body.language ?? ''),
        category: String(body.category ?? ''),
        parameterFormat: parameterFormat as 'named' | 'positional',
        components: body.components as never,
      };
      const checked = validateTemplateDefinition(definition);
      if (!checked.ok) {
        return graphError(reply, 400, 100, 'Invalid parameter', {
          error_subcode: 2388042,
          is_transient: false,
          error_user_title: 'Template is not valid',
          error_user_msg: checked.errors.join('; '),
        });
      }
      if (store.find(wabaId, definition.name, definition.language)) {
        return graphError(reply, 400, 100, 'Invalid parameter', {
          error_subcode: 2388024,
          is_transient: false,
          error_user_title: 'Message template already exists',
          error_user_msg: `There is already ${definition.language} content for this template. You can create a new template and try again.`,
        });
      }
      const now = new Date().toISOString();
      const template: SandboxTemplate = {
        id: store.newId(),
        wabaId,
        name: definition.name,
        language: definition.language,
        category: definition.category,
        parameterFormat: definition.parameterFormat,
        status: 'PENDING',
        components: body.components as Obj[],
        qualityScore: 'UNKNOWN',
        createdAt: now,
        updatedAt: now,
      };
      store.templates.set(template.id, template);
      store.onChange();
      review(context, store, template);
      return { id: template.id, status: 'PENDING', category: template.category };
    },
  );

  app.get<{
    Params: { version: string; wabaId: string };
    Querystring: { fields?: string; limit?: string; after?: string; name?: string; status?: string };
  }>('/:version/:wabaId/message_templates', async (request, reply) => {
    const { wabaId } = request.params;
    const tenant = context.tenants.tenantByWabaId(wabaId);
    if (!authorized(context, tenant, request, reply)) return reply;
    const { fields, name, status } = request.query;
    const limit = Math.min(Math.max(Number(request.query.limit ?? 25) || 25, 1), 100);
    const all = store.ofWaba(wabaId).filter((t) => (!name || t.name === name) && (!status || t.status === status.toUpperCase()));
    const start = request.query.after ? Number(Buffer.from(request.query.after, 'base64url').toString()) : 0;
    if (!Number.isInteger(start) || start < 0) return graphError(reply, 400, 100, 'Invalid parameter', { error_user_msg: 'bad cursor' });
    const page = all.slice(start, start + limit);
    const cursor = (n: number) => Buffer.from(String(n)).toString('base64url');
    const hasNext = start + limit < all.length;
    const base = `${request.protocol}://${request.hostname}${request.url.split('?')[0]}`;
    const next = new URLSearchParams({ ...(fields ? { fields } : {}), limit: String(limit), after: cursor(start + limit) });
    return {
      data: page.map((t) => view(t, fields)),
      paging: {
        cursors: { before: cursor(start), after: cursor(start + page.length) },
        ...(hasNext ? { next: `${base}?${next.toString()}` } : {}),
      },
    };
  });

  app.delete<{ Params: { version: string; wabaId: string }; Querystring: { name?: string; hsm_id?: string } }>(
    '/:version/:wabaId/message_templates',
    async (request, reply) => {
      const { wabaId } = request.params;
      const tenant = context.tenants.tenantByWabaId(wabaId);
      if (!authorized(context, tenant, request, reply)) return reply;
      const { name, hsm_id: hsmId } = request.query;
      if (!name) return graphError(reply, 400, 100, 'Invalid parameter', { error_user_msg: 'name is required' });
      const victims = store.ofWaba(wabaId).filter((t) => t.name === name && (!hsmId || t.id === hsmId));
      if (victims.length === 0)
        return graphError(reply, 404, 100, 'Invalid parameter', {
          error_subcode: 2593002,
          error_user_msg: `Message template ${name} not found`,
        });
      for (const t of victims) store.templates.delete(t.id);
      store.onChange();
      return { success: true };
    },
  );

  app.post<{ Params: { version: string; templateId: string }; Body: unknown }>('/:version/:templateId', async (request, reply) => {
    const t = store.templates.get(request.params.templateId);
    if (!t) return graphError(reply, 400, 100, 'Unsupported post request. Object does not exist', { error_subcode: 33 });
    if (!authorized(context, context.tenants.tenantByWabaId(t.wabaId), request, reply)) return reply;
    const body = isObj(request.body) ? request.body : {};
    if (!EDITABLE.has(t.status)) {
      return graphError(reply, 400, 100, 'Invalid parameter', {
        error_user_msg: `A template can be edited only when APPROVED, REJECTED or PAUSED; it is ${t.status}`,
      });
    }
    if (body.category !== undefined && t.status === 'APPROVED' && body.category !== t.category) {
      return graphError(reply, 400, 100, 'Invalid parameter', { error_user_msg: 'The category of an approved template cannot be changed' });
    }
    const components = Array.isArray(body.components) ? (body.components as Obj[]) : t.components;
    const checked = validateTemplateDefinition({
      name: t.name,
      language: t.language,
      category: String(body.category ?? t.category),
      parameterFormat: t.parameterFormat,
      components: components as never,
    });
    if (!checked.ok)
      return graphError(reply, 400, 100, 'Invalid parameter', { error_subcode: 2388042, error_user_msg: checked.errors.join('; ') });
    t.components = components;
    if (typeof body.category === 'string') t.category = body.category;
    t.status = 'PENDING';
    t.updatedAt = new Date().toISOString();
    store.onChange();
    review(context, store, t);
    return { success: true };
  });

  app.post<{ Params: { version: string; templateId: string } }>('/:version/:templateId/unpause', async (request, reply) => {
    const t = store.templates.get(request.params.templateId);
    if (!t) return graphError(reply, 400, 100, 'Unsupported post request. Object does not exist', { error_subcode: 33 });
    if (!authorized(context, context.tenants.tenantByWabaId(t.wabaId), request, reply)) return reply;
    if (t.status !== 'PAUSED')
      return graphError(reply, 400, 100, 'Invalid parameter', { error_user_msg: `template is ${t.status}, not PAUSED` });
    await setStatus(context, store, t, 'APPROVED', { other_info: { title: 'UNPAUSE', description: 'Unpaused on request' } });
    return { success: true };
  });

  /* ---------------------------------------------------------------- control (sandbox only) */

  app.post<{ Body: ReviewRule }>('/sandbox/templates/review-rules', async (request, reply) => {
    const rule = request.body;
    if (!isObj(rule) || (rule.outcome !== 'APPROVED' && rule.outcome !== 'REJECTED')) {
      return reply.status(400).send({ code: 'bad_request', message: 'outcome must be APPROVED or REJECTED' });
    }
    store.rules.push(rule);
    store.onChange();
    return { rules: store.rules.length };
  });

  app.delete('/sandbox/templates/review-rules', async () => {
    store.rules.length = 0;
    store.onChange();
    return { rules: 0 };
  });

  /**
   * Pushes what Meta would decide later: a status event (PAUSED with other_info, DISABLED,
   * REINSTATED, FLAGGED, …), a quality change or a category change, with its webhook.
   */
  app.post<{
    Body: {
      templateId?: string;
      wabaId?: string;
      name?: string;
      language?: string;
      event?: string;
      reason?: string;
      otherInfo?: { title: string; description?: string };
      rejectionInfo?: { reason: string; recommendation?: string };
      quality?: string;
      category?: string;
    };
  }>('/sandbox/templates/events', async (request, reply) => {
    const b = request.body ?? {};
    const t = b.templateId
      ? store.templates.get(b.templateId)
      : b.wabaId && b.name && b.language
        ? store.find(b.wabaId, b.name, b.language)
        : undefined;
    if (!t)
      return reply.status(404).send({ code: 'not_found', message: 'no such template (give templateId, or wabaId + name + language)' });
    const deliveries: unknown[] = [];
    if (b.event) {
      deliveries.push(
        await setStatus(context, store, t, b.event.toUpperCase(), {
          ...(b.reason ? { reason: b.reason } : {}),
          ...(b.otherInfo ? { other_info: b.otherInfo } : {}),
          ...(b.rejectionInfo ? { rejection_info: b.rejectionInfo } : {}),
        }),
      );
    }
    if (b.quality) {
      const previous = t.qualityScore;
      t.qualityScore = b.quality.toUpperCase();
      deliveries.push(
        await notify(context, store, t, 'message_template_quality_update', {
          previous_quality_score: previous,
          new_quality_score: t.qualityScore,
          ...templateRef(t),
        }),
      );
    }
    if (b.category) {
      const previous = t.category;
      t.category = b.category.toUpperCase();
      deliveries.push(
        await notify(context, store, t, 'template_category_update', {
          ...templateRef(t),
          previous_category: previous,
          new_category: t.category,
        }),
      );
    }
    store.onChange();
    return { template: view(t, 'id,name,language,status,category,quality_score'), deliveries };
  });

  app.get<{ Querystring: { wabaId?: string } }>('/sandbox/templates', async (request) => ({
    data: [...store.templates.values()].filter((t) => !request.query.wabaId || t.wabaId === request.query.wabaId),
  }));

  app.get('/sandbox/templates/webhooks', async () => ({ data: store.webhooks }));

  /** Would this `template` object of a send be accepted from this phone number? */
  app.post<{ Body: { phoneNumberId?: string; template?: unknown } }>('/sandbox/templates/check-send', async (request, reply) => {
    const phone = request.body?.phoneNumberId ? context.tenants.tenantByPhoneNumberId(request.body.phoneNumberId) : undefined;
    if (!phone) return reply.status(404).send({ code: 'not_found', message: 'unknown phoneNumberId' });
    const result = store.checkSend(phone.tenant.wabaId, request.body.template);
    return result.ok ? { ok: true } : reply.status(result.httpStatus).send({ error: result.error });
  });
}
