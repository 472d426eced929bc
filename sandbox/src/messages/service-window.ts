import { canonicalDigits } from '@wa/contracts';
import { CUSTOMER_SERVICE_WINDOW_MS } from '@wa/conversation';
import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../sandbox-context';
import { sandboxState } from '../state/sandbox-state';

/** Meta's customer-service window, the platform's one rule (@wa/conversation). */
const WINDOW_MS = CUSTOMER_SERVICE_WINDOW_MS;

/**
 * The citizen's side of the customer-service window as Meta keeps it: per business phone number
 * and citizen, when the citizen last wrote. The sandbox learns it from the inbound messages injected
 * through it (`/sandbox/inbound/...`), or from `POST /sandbox/windows` for tests that need an open
 * window without a message. Citizens are keyed by their canonical digits, so a Mexican or Brazilian
 * wa_id and the E.164 number a business dials for the same person meet (as they do at Meta).
 */
export class ServiceWindows {
  private readonly lastInbound = new Map<string, number>();
  /** Called after every change (the state file writes itself soon after). */
  onChange: () => void = () => undefined;

  private static key(phoneNumberId: string, citizen: string): string {
    return `${phoneNumberId}:${citizen.startsWith('bsuid:') ? citizen : canonicalDigits(citizen)}`;
  }

  /** The citizen wrote to this number at `at` (ms); an older message never shortens the window. */
  open(phoneNumberId: string, citizen: string, at: number): void {
    const key = ServiceWindows.key(phoneNumberId, citizen);
    if ((this.lastInbound.get(key) ?? -Infinity) >= at) return;
    this.lastInbound.set(key, at);
    this.onChange();
  }

  isOpen(phoneNumberId: string, citizen: string, now: number): boolean {
    const last = this.lastInbound.get(ServiceWindows.key(phoneNumberId, citizen));
    return last !== undefined && now - last < WINDOW_MS && last <= now;
  }

  lastMessageAt(phoneNumberId: string, citizen: string): number | undefined {
    return this.lastInbound.get(ServiceWindows.key(phoneNumberId, citizen));
  }

  close(phoneNumberId: string, citizen: string): boolean {
    const removed = this.lastInbound.delete(ServiceWindows.key(phoneNumberId, citizen));
    if (removed) this.onChange();
    return removed;
  }

  clear(): void {
    this.lastInbound.clear();
    this.onChange();
  }

  list(now: number): { phoneNumberId: string; citizen: string; lastMessageAt: string; closesAt: string; open: boolean }[] {
    return [...this.lastInbound].map(([key, at]) => {
      const [phoneNumberId, ...rest] = key.split(':');
      return {
        phoneNumberId,
        citizen: rest.join(':'),
        lastMessageAt: new Date(at).toISOString(),
        closesAt: new Date(at + WINDOW_MS).toISOString(),
        open: now - at < WINDOW_MS && at <= now,
      };
    });
  }

  /** Windows that closed long ago say nothing Meta would act on: the file keeps the open ones. */
  dump(now = Date.now()): [string, number][] {
    return [...this.lastInbound].filter(([, at]) => now - at < WINDOW_MS);
  }

  restore(data: unknown): void {
    if (!Array.isArray(data)) throw new Error('windows must be an array of [key, ms] pairs');
    for (const entry of data) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number')
        throw new Error('windows must be an array of [key, ms] pairs');
      this.lastInbound.set(entry[0], entry[1]);
    }
  }
}

const windows = new WeakMap<SandboxContext, ServiceWindows>();

/** The windows of one sandbox instance (the inbound part opens them, the messages part checks them). */
export function sandboxWindows(context: SandboxContext): ServiceWindows {
  let found = windows.get(context);
  if (!found) {
    const created = new ServiceWindows();
    const state = sandboxState(context);
    created.onChange = () => state.changed();
    state.section('windows', { dump: () => created.dump(), restore: (data) => created.restore(data) });
    windows.set(context, created);
    found = created;
  }
  return found;
}

/** `at` as ISO 8601 or Unix seconds; absent = now. */
function parseAt(at: unknown, now: number): number | undefined {
  if (at === undefined) return now;
  if (typeof at === 'number' && Number.isFinite(at)) return at * 1000;
  if (typeof at === 'string' && !Number.isNaN(Date.parse(at))) return Date.parse(at);
  return undefined;
}

/**
 * Control (not Meta): `POST /sandbox/windows` opens a window as if the citizen had just written
 * (or at `at`), without a webhook; `GET` lists them; `DELETE` closes one (query) or all.
 */
export function registerWindowRoutes(app: FastifyInstance, context: SandboxContext): void {
  const store = sandboxWindows(context);
  const phoneOf = (body: { tenant?: string; phoneNumberId?: string }): string | { error: string } => {
    if (body.phoneNumberId) {
      const found = context.tenants.tenantByPhoneNumberId(body.phoneNumberId);
      if (!found) return { error: `no tenant has phone number id ${body.phoneNumberId}` };
      if (body.tenant && found.tenant.id !== body.tenant) return { error: `${body.phoneNumberId} is not ${body.tenant}'s number` };
      return body.phoneNumberId;
    }
    const tenant = body.tenant ? context.tenants.tenant(body.tenant) : undefined;
    if (!tenant) return { error: 'a known tenant or phoneNumberId is required' };
    return tenant.phoneNumbers[0].id;
  };

  app.post<{ Body: { tenant?: string; phoneNumberId?: string; waId?: string; from?: string; at?: string | number } }>(
    '/sandbox/windows',
    async (request, reply) => {
      const body = request.body ?? {};
      const phone = phoneOf(body);
      if (typeof phone !== 'string') return reply.status(400).send({ code: 'bad_request', message: phone.error });
      const citizen = (body.waId ?? body.from ?? '').replace(/\D/g, '');
      if (citizen.length < 6)
        return reply.status(400).send({ code: 'bad_request', message: 'waId (or from) is required: the citizen number' });
      const now = Date.now();
      const at = parseAt(body.at, now);
      if (at === undefined) return reply.status(400).send({ code: 'bad_request', message: 'at must be ISO 8601 or Unix seconds' });
      store.open(phone, citizen, at);
      return reply.status(201).send({
        phoneNumberId: phone,
        waId: citizen,
        lastMessageAt: new Date(store.lastMessageAt(phone, citizen)!).toISOString(),
        open: store.isOpen(phone, citizen, now),
      });
    },
  );

  app.get('/sandbox/windows', async () => ({ windows: store.list(Date.now()) }));

  app.delete<{ Querystring: { phoneNumberId?: string; waId?: string } }>('/sandbox/windows', async (request, reply) => {
    const { phoneNumberId, waId } = request.query;
    if (!phoneNumberId && !waId) {
      store.clear();
      return { cleared: true };
    }
    if (!phoneNumberId || !waId)
      return reply.status(400).send({ code: 'bad_request', message: 'give both phoneNumberId and waId, or neither' });
    return store.close(phoneNumberId, waId)
      ? { closed: true }
      : reply.status(404).send({ code: 'not_found', message: 'no window for that number and citizen' });
  });
}
