import { randomBytes } from 'node:crypto';
import { canonicalDigits } from '@wa/contracts';
import type { PhoneNumberConfig, TenantConfig } from '@wa/tenancy';
import type { SandboxContext } from '../sandbox-context';

export type StatusName = 'sent' | 'delivered' | 'read' | 'failed';

/** A message Meta accepted: what the citizen would receive. */
export interface SentMessage {
  wamid: string;
  tenantId: string;
  phoneNumberId: string;
  /** `to` as the business sent it, and the wa_id it resolved to. */
  input: string;
  waId: string;
  type: string;
  /** The request body as received. */
  payload: Record<string, unknown>;
  acceptedAt: number;
  bizOpaqueCallbackData?: string;
  statuses: { status: StatusName; at: number; delivered?: boolean }[];
  /** Accepted, then failed at Meta's end (reported in a `failed` status webhook): the citizen never gets it. */
  failure?: { code: number; title: string };
}

export interface InjectionRule {
  id: string;
  code: number;
  /** Match: the recipient's digits, a template name, a message type, a business number. Absent = any. */
  recipient?: string;
  template?: string;
  type?: string;
  phoneNumberId?: string;
  /** Share of matching sends that fail (0–100); default 100. */
  percentage?: number;
  /** Stop after this many hits; default unlimited. */
  times?: number;
  /** sync: the HTTP response is the error; async: accepted, then a `failed` status webhook. */
  mode: 'sync' | 'async';
  httpStatus?: number;
  message?: string;
  details?: string;
  hits: number;
}

export interface SimulatorConfig {
  statuses: {
    enabled: boolean;
    sentDelayMs: number;
    deliveredDelayMs: number;
    readDelayMs: number;
    /** The last status a message reaches. */
    stopAt: 'sent' | 'delivered' | 'read';
    /** Delivery retries per webhook (Meta retries for days). */
    retries: number;
    /**
     * Meta usually posts one status per webhook; it may batch. Off: one status per POST. On:
     * statuses due within `batchWindowMs` share one POST per number (up to 100), which load tests
     * want (tens of thousands of statuses).
     */
    batch: boolean;
    batchWindowMs: number;
  };
  /**
   * Free-form messages (anything but a template) to a citizen who has not written to the number in
   * the last 24 hours are accepted, then fail with 131047 in a status webhook, as at Meta. Off: the
   * sandbox delivers them anyway (for tests that are about something else).
   */
  enforceWindow: boolean;
  /** Per-number throughput (msg/s, sliding second); defaults to the tenant file's tier. */
  rateLimits: Record<string, number>;
  rateLimitEnabled: boolean;
  /** Pair limit: a burst, then one message per interval to the same citizen. */
  pair: { enabled: boolean; burst: number; intervalMs: number };
  /** Added to every response (Meta answers in ~100–300 ms). */
  latencyMs: number;
  notOnWhatsApp: { mode: 'sync' | 'async' };
  /** Template sends must name an approved template of the WABA with fitting parameters (the templates part's store). */
  checkTemplates: boolean;
  /** Records kept (oldest dropped first). */
  recordLimit: number;
}

/** A partial configuration; nested objects are merged, not replaced. */
export type ConfigPatch = Partial<Omit<SimulatorConfig, 'statuses' | 'pair' | 'notOnWhatsApp'>> & {
  statuses?: Partial<SimulatorConfig['statuses']>;
  pair?: Partial<SimulatorConfig['pair']>;
  notOnWhatsApp?: Partial<SimulatorConfig['notOnWhatsApp']>;
};

export const DEFAULT_CONFIG: SimulatorConfig = {
  statuses: {
    enabled: true,
    sentDelayMs: 100,
    deliveredDelayMs: 300,
    readDelayMs: 1000,
    stopAt: 'read',
    retries: 3,
    batch: false,
    batchWindowMs: 20,
  },
  enforceWindow: true,
  rateLimits: {},
  rateLimitEnabled: true,
  pair: { enabled: true, burst: 45, intervalMs: 6000 },
  latencyMs: 0,
  notOnWhatsApp: { mode: 'sync' },
  checkTemplates: true,
  recordLimit: 200000,
};

/**
 * Meta's titles (the `message` after `(#code)`) and `error_data.details` per code. Titles follow
 * Meta's error-code reference. Details are Meta's wording where real responses and webhooks show
 * it: 130429 and 131047 here, 132000 and 132001 per request where the check is made; 131051's is
 * its wording in webhooks, unconfirmed for a send. Elsewhere (131026, 131056 and the rest) they are
 * the reference's description or a plain summary: Meta's exact strings are not confirmed.
 */
export const ERROR_TEXT: Record<number, { message: string; details: string; http: number }> = {
  0: { message: '(#0) AuthException', details: 'We were unable to authenticate the app user.', http: 401 },
  190: { message: 'Invalid OAuth access token - Cannot parse access token', details: '', http: 401 },
  1: { message: '(#1) An unknown error occurred', details: 'Unknown error.', http: 500 },
  2: { message: '(#2) Service temporarily unavailable', details: 'Temporary due to downtime or overload.', http: 503 },
  4: { message: '(#4) Application request limit reached', details: 'The app has reached its API call rate limit.', http: 400 },
  100: { message: '(#100) Invalid parameter', details: 'Invalid parameter.', http: 400 },
  131000: { message: '(#131000) Something went wrong', details: 'Message failed to send due to an unknown error.', http: 500 },
  131016: { message: '(#131016) Service unavailable', details: 'A service is temporarily unavailable.', http: 503 },
  130429: {
    message: '(#130429) Rate limit hit',
    details: 'Message failed to send because there were too many messages sent from this phone number in a short period of time',
    http: 400,
  },
  131056: {
    message: '(#131056) (Business Account, Consumer Account) pair rate limit hit',
    details: 'Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.',
    http: 400,
  },
  131026: { message: '(#131026) Message undeliverable', details: 'Message Undeliverable.', http: 400 },
  131047: {
    message: '(#131047) Re-engagement message',
    details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
    http: 400,
  },
  131049: {
    message: '(#131049) This message was not delivered to maintain healthy ecosystem engagement.',
    details: 'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.',
    http: 400,
  },
  131051: { message: '(#131051) Unsupported message type', details: 'Message type is currently not supported.', http: 400 },
  131057: { message: '(#131057) Account in maintenance mode', details: 'Business account is in maintenance mode.', http: 503 },
  132000: {
    message: '(#132000) Number of parameters does not match the expected number of params',
    details: 'Number of parameters does not match the expected number of params',
    http: 400,
  },
  132001: {
    message: '(#132001) Template name does not exist in the translation',
    details: 'template name does not exist in the translation',
    http: 404,
  },
  132015: { message: '(#132015) Template is Paused', details: 'The template is paused due to low quality.', http: 400 },
};

/** Graph-level authentication errors: Meta answers them without `error_data` (no WhatsApp details). */
const GRAPH_AUTH_CODES = new Set([0, 190]);

export function metaError(code: number, overrides: { message?: string; details?: string } = {}) {
  const known = ERROR_TEXT[code] ?? { message: `(#${code}) Error`, details: `Injected error ${code}.`, http: 400 };
  return {
    error: {
      message: overrides.message ?? known.message,
      type: 'OAuthException',
      code,
      ...(GRAPH_AUTH_CODES.has(code) ? {} : { error_data: { messaging_product: 'whatsapp', details: overrides.details ?? known.details } }),
      fbtrace_id: randomBytes(9).toString('base64url'),
    },
  };
}

export function httpStatusFor(code: number): number {
  return ERROR_TEXT[code]?.http ?? (code >= 200 && code <= 299 ? 403 : 400);
}

export function newWamid(): string {
  return `wamid.HBgM${randomBytes(24).toString('base64url')}`;
}

interface PendingStatus {
  message: SentMessage;
  status: StatusName;
  errors?: { code: number; title: string; message: string; error_data: { details: string } }[];
}

/**
 * Meta's side of outbound messaging: per-number throughput over a sliding second, the pair limit
 * (a burst, then one per interval per citizen, like Meta's 45-in-6-s), error injection, a "not on
 * WhatsApp" list, a record of every accepted message, and signed status webhooks back to the
 * ingress (sent → delivered → read, or failed) on configurable delays.
 */
export class OutboundSimulator {
  config: SimulatorConfig;
  /** What the configuration starts as and returns to on reset (the defaults plus the context's `messages`). */
  private readonly baseConfig: SimulatorConfig;
  readonly sent: SentMessage[] = [];
  private readonly byWamid = new Map<string, SentMessage>();
  readonly rules: InjectionRule[] = [];
  readonly notOnWhatsApp = new Set<string>();
  /** Every send request that passed auth and validation, per number (ms), for throughput checks. */
  readonly arrivals = new Map<string, number[]>();
  readonly stats = { received: 0, accepted: 0, rejected: {} as Record<string, number>, webhooks: { delivered: 0, failed: 0 } };
  /** Sliding one-second windows of accepted sends per number (throughput). */
  private readonly throughput = new Map<string, number[]>();
  private readonly pairs = new Map<string, { tokens: number; at: number }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private pending: PendingStatus[] = [];
  private flushTimer?: NodeJS.Timeout;
  private closed = false;
  private ruleSeq = 0;

  /** Called when the "not on WhatsApp" list changes (it is part of the persisted state). */
  onChange: () => void = () => undefined;

  constructor(private readonly context: SandboxContext) {
    this.config = structuredClone(DEFAULT_CONFIG);
    this.configure(context.messages ?? {});
    this.baseConfig = structuredClone(this.config);
  }

  configure(patch: ConfigPatch): SimulatorConfig {
    const { statuses, pair, notOnWhatsApp, rateLimits, ...rest } = patch;
    this.config = {
      ...this.config,
      ...rest,
      statuses: { ...this.config.statuses, ...(statuses ?? {}) },
      pair: { ...this.config.pair, ...(pair ?? {}) },
      notOnWhatsApp: { ...this.config.notOnWhatsApp, ...(notOnWhatsApp ?? {}) },
      rateLimits: { ...this.config.rateLimits, ...(rateLimits ?? {}) },
    };
    return this.config;
  }

  reset(): void {
    // Statuses still due belong to the messages being forgotten.
    this.timers.forEach(clearTimeout);
    this.timers.clear();
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.pending = [];
    this.sent.length = 0;
    this.byWamid.clear();
    this.rules.length = 0;
    this.notOnWhatsApp.clear();
    this.arrivals.clear();
    this.throughput.clear();
    this.pairs.clear();
    this.stats.received = 0;
    this.stats.accepted = 0;
    this.stats.rejected = {};
    this.stats.webhooks = { delivered: 0, failed: 0 };
    this.config = structuredClone(this.baseConfig);
    this.onChange();
  }

  close(): void {
    this.closed = true;
    this.timers.forEach(clearTimeout);
    this.timers.clear();
    clearTimeout(this.flushTimer);
  }

  addRule(rule: Omit<InjectionRule, 'id' | 'hits' | 'mode'> & { mode?: 'sync' | 'async' }): InjectionRule {
    const stored: InjectionRule = { ...rule, mode: rule.mode ?? 'sync', id: `rule-${++this.ruleSeq}`, hits: 0 };
    this.rules.push(stored);
    return stored;
  }

  removeRule(id: string): boolean {
    const i = this.rules.findIndex((r) => r.id === id);
    if (i >= 0) this.rules.splice(i, 1);
    return i >= 0;
  }

  reject(code: number): void {
    this.stats.rejected[code] = (this.stats.rejected[code] ?? 0) + 1;
  }

  noteArrival(phoneNumberId: string, now: number): void {
    this.stats.received++;
    const list = this.arrivals.get(phoneNumberId) ?? [];
    if (list.length < this.config.recordLimit) list.push(now);
    this.arrivals.set(phoneNumberId, list);
  }

  /** Sliding one-second window per number; true when this send fits. */
  admitThroughput(phone: PhoneNumberConfig, now: number): boolean {
    if (!this.config.rateLimitEnabled) return true;
    const limit = this.config.rateLimits[phone.id] ?? phone.throughputPerSecond;
    const window = this.throughput.get(phone.id) ?? [];
    let drop = 0;
    while (drop < window.length && window[drop] <= now - 1000) drop++;
    if (drop) window.splice(0, drop);
    if (window.length >= limit) {
      this.throughput.set(phone.id, window);
      return false;
    }
    window.push(now);
    this.throughput.set(phone.id, window);
    return true;
  }

  /** Token bucket per (number, citizen): `burst` at once, then one per interval. */
  admitPair(phoneNumberId: string, waId: string, now: number): boolean {
    if (!this.config.pair.enabled) return true;
    const key = `${phoneNumberId}:${waId}`;
    const { burst, intervalMs } = this.config.pair;
    const bucket = this.pairs.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) / intervalMs);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.pairs.set(key, bucket);
      return false;
    }
    bucket.tokens -= 1;
    this.pairs.set(key, bucket);
    return true;
  }

  matchRule(phoneNumberId: string, waId: string, type: string, template: string | undefined): InjectionRule | undefined {
    for (const rule of this.rules) {
      if (rule.phoneNumberId && rule.phoneNumberId !== phoneNumberId) continue;
      if (rule.recipient && rule.recipient.replace(/\D/g, '') !== waId) continue;
      if (rule.type && rule.type !== type) continue;
      if (rule.template && rule.template !== template) continue;
      if (rule.times !== undefined && rule.hits >= rule.times) continue;
      if (rule.percentage !== undefined && Math.random() * 100 >= rule.percentage) continue;
      rule.hits++;
      return rule;
    }
    return undefined;
  }

  accept(
    tenant: TenantConfig,
    phone: PhoneNumberConfig,
    check: { waId: string; type: string; input: string },
    payload: Record<string, unknown>,
    now: number,
  ): SentMessage {
    const message: SentMessage = {
      wamid: newWamid(),
      tenantId: tenant.id,
      phoneNumberId: phone.id,
      input: check.input,
      waId: check.waId,
      type: check.type,
      payload,
      acceptedAt: now,
      bizOpaqueCallbackData: typeof payload.biz_opaque_callback_data === 'string' ? payload.biz_opaque_callback_data : undefined,
      statuses: [],
    };
    this.stats.accepted++;
    this.sent.push(message);
    this.byWamid.set(message.wamid, message);
    if (this.sent.length > this.config.recordLimit) {
      const dropped = this.sent.shift();
      if (dropped) this.byWamid.delete(dropped.wamid);
    }
    return message;
  }

  /** The last accepted message of a kind to this citizen from this number: what a citizen's reply answers. */
  lastSentTo(phoneNumberId: string, waId: string, kind: 'button' | 'list' | 'template'): string | undefined {
    const citizen = canonicalDigits(waId);
    for (let i = this.sent.length - 1; i >= 0; i--) {
      const m = this.sent[i];
      if (m.phoneNumberId !== phoneNumberId || canonicalDigits(m.waId) !== citizen) continue;
      if (
        kind === 'template'
          ? m.type === 'template'
          : m.type === 'interactive' && (m.payload.interactive as { type?: string })?.type === kind
      )
        return m.wamid;
    }
    return undefined;
  }

  get(wamid: string): SentMessage | undefined {
    return this.byWamid.get(wamid);
  }

  /** Schedules the status webhooks of an accepted message (reactions only ever get `sent`). */
  scheduleStatuses(message: SentMessage, failure?: { code: number; message?: string; details?: string }): void {
    const s = this.config.statuses;
    const text = failure ? ERROR_TEXT[failure.code] : undefined;
    const title = failure ? (failure.message ?? text?.message.replace(/^\(#\d+\)\s*/, '') ?? `Error ${failure.code}`) : '';
    if (failure) message.failure = { code: failure.code, title };
    if (!s.enabled || this.closed) return;
    if (failure) {
      this.after(s.sentDelayMs, () =>
        this.enqueue({
          message,
          status: 'failed',
          errors: [{ code: failure.code, title, message: title, error_data: { details: failure.details ?? text?.details ?? title } }],
        }),
      );
      return;
    }
    this.after(s.sentDelayMs, () => this.enqueue({ message, status: 'sent' }));
    if (message.type === 'reaction' || s.stopAt === 'sent') return;
    this.after(s.deliveredDelayMs, () => this.enqueue({ message, status: 'delivered' }));
    if (s.stopAt === 'delivered') return;
    this.after(s.readDelayMs, () => this.enqueue({ message, status: 'read' }));
  }

  private after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private enqueue(status: PendingStatus): void {
    if (this.closed) return;
    status.message.statuses.push({ status: status.status, at: Date.now() });
    if (!this.config.statuses.batch) {
      void this.post(status.message.phoneNumberId, [status]);
      return;
    }
    this.pending.push(status);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.config.statuses.batchWindowMs);
  }

  /** One webhook POST per (number, batch of ≤ 100 statuses), signed with the tenant's app secret. */
  private async flush(): Promise<void> {
    const due = this.pending;
    this.pending = [];
    const groups = new Map<string, PendingStatus[]>();
    for (const p of due) {
      const list = groups.get(p.message.phoneNumberId) ?? [];
      list.push(p);
      groups.set(p.message.phoneNumberId, list);
    }
    const posts: Promise<void>[] = [];
    for (const [phoneNumberId, list] of groups) {
      for (let i = 0; i < list.length; i += 100) posts.push(this.post(phoneNumberId, list.slice(i, i + 100)));
    }
    await Promise.all(posts);
  }

  private async post(phoneNumberId: string, statuses: PendingStatus[]): Promise<void> {
    const found = this.context.tenants.tenantByPhoneNumberId(phoneNumberId);
    if (!found) return;
    const { tenant, phone } = found;
    let secret: string;
    try {
      secret = this.context.tenants.appSecrets(tenant.appId)[0];
    } catch {
      this.stats.webhooks.failed += statuses.length;
      return;
    }
    const payload = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: tenant.wabaId,
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: phone.displayNumber.replace(/^\+/, ''), phone_number_id: phone.id },
                statuses: statuses.map((p) => statusObject(p)),
              },
            },
          ],
        },
      ],
    };
    const result = await this.context.webhooks.deliver(this.context.webhookPath(tenant.appId), payload, secret, {
      retries: this.config.statuses.retries,
      initialBackoffMs: 200,
    });
    if (result.delivered) this.stats.webhooks.delivered += statuses.length;
    else this.stats.webhooks.failed += statuses.length;
    for (const p of statuses) {
      const entry = p.message.statuses.find((s) => s.status === p.status && s.delivered === undefined);
      if (entry) entry.delivered = result.delivered;
    }
  }
}

function statusObject(p: PendingStatus): Record<string, unknown> {
  const m = p.message;
  const isTemplate = m.type === 'template';
  const object: Record<string, unknown> = {
    id: m.wamid,
    status: p.status,
    timestamp: String(Math.floor(Date.now() / 1000)),
    recipient_id: m.waId,
  };
  if (m.bizOpaqueCallbackData) object.biz_opaque_callback_data = m.bizOpaqueCallbackData;
  // Pricing comes with `sent` and with one of delivered/read (§2.4).
  if (p.status === 'sent' || p.status === 'delivered') {
    object.pricing = isTemplate
      ? { billable: true, pricing_model: 'PMP', type: 'regular', category: 'utility' }
      : { billable: false, pricing_model: 'PMP', type: 'free_customer_service', category: 'service' };
  }
  if (p.errors) object.errors = p.errors.map((e) => ({ ...e, href: '/documentation/business-messaging/whatsapp/support/error-codes' }));
  return object;
}
