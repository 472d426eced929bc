import { randomUUID } from 'node:crypto';
import { encodeEvent, parseGatewayCallbackData, Topics, type OutboundRequestV1 } from '@wa/contracts';
import { sleep, waitFor, type Collected, type Collector } from '@wa/testing';
import { Agency, colombianMobile, digits, emiratiMobile, http, waitConsumed } from '../e2e/support/drive';
import { driveStack, startStack, type E2EStack, type RunningStack, type ServiceName } from '../e2e/support/stack';
import { faultTable, type FaultRow } from './support/report';
import { scaled, SHORT } from './support/short';

/*
 * kill -9 of the outbound gateway, the notification scheduler and the template registry, each under
 * its own load, in the platform as `npm run stack:up` runs it (tests/e2e/support: every service a
 * process, the Cloud API sandbox standing in for Meta, which records every send and every template).
 * Each run kills one service mid-load and starts it again as Kubernetes would; the load keeps going
 * meanwhile.
 */

const ROADS = 'roads-agency';
const IMMIGRATION = { id: 'immigration-dept', waba: '100000000000002' };
const ROADS_WABA = '100000000000001';
const SERVICES: ServiceName[] = ['webhook-ingress', 'outbound-gateway', 'template-registry', 'notification-scheduler'];

let running: RunningStack | undefined;
let stack: E2EStack;
let agency: Agency;
let catalog: Collector;
const rows: FaultRow[] = [];
const token: Record<string, string> = {};

interface SandboxSend {
  wamid: string;
  waId: string;
  acceptedAt: number;
  bizOpaqueCallbackData?: string;
}

async function sandboxSends(): Promise<SandboxSend[]> {
  const { body } = await http(`${stack.sandboxUrl}/sandbox/messages?compact=1`);
  return body.messages as unknown as SandboxSend[];
}

const ceId = (r: Collected) => r.headers.ce_id;
const parse = <T>(r: Collected) => JSON.parse(r.value ?? '{}') as T;

/** Counts second events (another ce_id) per key: copies with the same ce_id are at-least-once delivery that inboxes absorb. */
function byKey<T>(records: Collected[], key: (value: T) => string | undefined): Map<string, Set<string>> {
  const seen = new Map<string, Set<string>>();
  for (const r of records) {
    const k = key(parse<T>(r));
    if (k !== undefined) seen.set(k, (seen.get(k) ?? new Set<string>()).add(ceId(r)));
  }
  return seen;
}

/**
 * Kills `name` once `ready()` holds and starts it again at once. Returns when the kill was sent and
 * when the process was gone (work it finished in between was the old process's).
 */
async function killAndRestart(name: ServiceName, ready: () => Promise<boolean> | boolean): Promise<{ killedAt: number; goneAt: number }> {
  await waitFor(ready, { what: `load flowing before ${name} is killed`, timeoutMs: 120000, intervalMs: 200 });
  const killedAt = Date.now();
  await running!.kill(name);
  const goneAt = Date.now();
  await running!.restart(name);
  return { killedAt, goneAt };
}

function report(row: FaultRow): void {
  rows.push(row);
  process.stdout.write(`\n${faultTable([row])}\n\n`);
}

beforeAll(async () => {
  running = await startStack('faults', SERVICES, {
    'template-registry': { TEMPLATES_SUBMIT_INTERVAL_MS: '200' },
    'notification-scheduler': { SCHEDULER_SWEEP_INTERVAL_MS: '200' },
  });
  stack = driveStack(running.facts);
  try {
    catalog = await stack.kafka.collect(Topics.templateCatalog.name);
    agency = new Agency(stack);
    await agency.connect();
    for (const t of [ROADS, IMMIGRATION.id]) token[t] = await stack.token(t, ['admin']);
    // The starter catalog (the registry submits it, the sandbox approves it by webhook), read by
    // the senders: what the gateway and the scheduler runs send.
    const approved = (key: string) =>
      catalog.records
        .filter((r) => r.key === key)
        .at(-1)
        ?.value?.includes('"status":"APPROVED"') ?? false;
    await waitFor(() => approved(`${ROADS}:document_received:es`) && approved(`${IMMIGRATION.id}:document_received:en`), {
      timeoutMs: 180000,
      intervalMs: 500,
      what: 'the starter template document_received approved on templates.catalog.v1',
    });
    await waitConsumed(stack, 'notification-scheduler', Topics.templateCatalog.name, 120000);
    await waitConsumed(stack, 'outbound-gateway', Topics.templateCatalog.name, 120000);
    // No quiet hours, so the scheduler run does not depend on the time of day in Bogotá.
    const url = `${stack.url['notification-scheduler']}/v1/scheduler/policy`;
    const policy = await http(url, { token: token[ROADS] });
    const put = await http(url, {
      method: 'PUT',
      token: token[ROADS],
      body: { ...policy.body, quietHours: { start: '00:00', end: '00:00' } },
    });
    if (put.status !== 200) throw new Error(`scheduler policy not saved: ${put.status} ${JSON.stringify(put.body)}`);
    stack.mark('set up');
  } catch (error) {
    await agency?.disconnect().catch(() => undefined);
    await catalog?.stop().catch(() => undefined);
    await running?.stop();
    throw error;
  }
}, 420000);

afterAll(async () => {
  if (rows.length > 0) process.stdout.write(`\n${faultTable(rows)}\n\n`);
  const results = await Promise.allSettled([catalog?.stop(), agency?.disconnect(), running?.stop()]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}, 120000);

describe('fault: kill -9 of the outbound gateway under a stream of send requests', () => {
  it('results every request once and sends nothing twice to the sandbox', async () => {
    const total = scaled(300, 60);
    const perSecond = scaled(20, 10);
    const results = await stack.kafka.collect(Topics.outboundResult.name);
    const producer = stack.kafka.kafka.producer({ idempotent: true });
    await producer.connect();
    const requestIds: string[] = [];
    const ours = new Set<string>();
    const publishedAt = new Map<string, number>();
    try {
      const publishing = (async () => {
        for (let i = 0; i < total; i++) {
          const request: OutboundRequestV1 = {
            tenantId: IMMIGRATION.id,
            requestId: randomUUID(),
            to: { phone: emiratiMobile() },
            kind: 'template',
            priority: 'notification',
            template: {
              name: 'document_received',
              language: 'en',
              parameters: { first_name: 'Fatima', application_type: 'residence visa renewal', reference: `APP-${i}` },
            },
            requestedBy: 'fault-run',
          };
          requestIds.push(request.requestId);
          ours.add(request.requestId);
          publishedAt.set(request.requestId, Date.now());
          const record = encodeEvent(Topics.outboundRequest, request, { source: '/tests/faults' });
          await producer.send({
            topic: `${stack.kafka.prefix}${Topics.outboundRequest.name}`,
            acks: -1,
            messages: [{ key: record.key, value: record.value, headers: record.headers }],
          });
          await sleep(1000 / perSecond);
        }
      })();
      const sentFor = async () =>
        (await sandboxSends()).filter((s) => ours.has(parseGatewayCallbackData(s.bizOpaqueCallbackData)?.requestId ?? ''));
      const { killedAt, goneAt } = await killAndRestart('outbound-gateway', async () => (await sentFor()).length >= total / 3);
      await publishing;

      // Every request ends as one result (accepted or failed); an uncertain send waits for its status.
      const resulted = () => byKey<{ requestId: string }>(results.records, (r) => (ours.has(r.requestId) ? r.requestId : undefined));
      await waitFor(() => resulted().size === total, {
        what: `(logs: ${stack.logDir}) a result for each of ${total} requests`,
        timeoutMs: 360000,
        intervalMs: 1000,
      }).catch(() => undefined);
      const byRequest = resulted();
      const sends = await sentFor();
      const perRequest = new Map<string, number>();
      for (const s of sends) {
        const id = parseGatewayCallbackData(s.bizOpaqueCallbackData)!.requestId;
        perRequest.set(id, (perRequest.get(id) ?? 0) + 1);
      }
      const accepted = results.records
        .map((r) => parse<{ requestId: string; outcome: string }>(r))
        .filter((r) => ours.has(r.requestId) && r.outcome === 'accepted');
      const lost = requestIds.filter((id) => !byRequest.has(id) || (accepted.some((a) => a.requestId === id) && !perRequest.has(id)));
      const duplicateSends = [...perRequest.values()].reduce((n, c) => n + c - 1, 0);
      const duplicateResults = [...byRequest.values()].reduce((n, ids) => n + ids.size - 1, 0);
      // Requests published after the kill are sent by the new process only (the sandbox stamps a
      // send when its own loop gets to it, which can be after the old process is gone).
      const resumed = sends
        .filter((s) => (publishedAt.get(parseGatewayCallbackData(s.bizOpaqueCallbackData)!.requestId) ?? 0) > goneAt)
        .map((s) => s.acceptedAt);
      report({
        fault: 'kill -9 of outbound-gateway, restarted',
        load: `${total} send requests at ${perSecond}/s`,
        accepted: byRequest.size,
        lost: lost.length,
        duplicates: duplicateSends + duplicateResults,
        refused: 0,
        recoverySeconds: resumed.length > 0 ? (Math.min(...resumed) - killedAt) / 1000 : NaN,
      });

      expect(lost).toEqual([]);
      expect(new Set(accepted.map((a) => a.requestId)).size).toBe(total);
      // Statuses flow (the sandbox posts them to the ingress within seconds), so an uncertain send
      // settles by its status and is never resent: docs/reliability.md's bound is zero here.
      expect(duplicateSends).toBe(0);
      expect(duplicateResults).toBe(0);
    } finally {
      await producer.disconnect();
      await results.stop();
    }
  });
});

describe('fault: kill -9 of the notification scheduler under agency events', () => {
  it('sends each reminder once and reports each outcome once', async () => {
    const total = scaled(150, 40);
    const perSecond = scaled(10, 8);
    const outcomes = await stack.kafka.collect(Topics.notificationOutcome.name);
    const citizens: { subjectId: string; phone: string; publishedAt: number }[] = [];
    try {
      const publishing = (async () => {
        for (let i = 0; i < total; i++) {
          const citizen = { subjectId: `CIT-F${i}-${randomUUID().slice(0, 6)}`, whatsapp: colombianMobile(), name: 'Ana' };
          citizens.push({ subjectId: citizen.subjectId, phone: citizen.whatsapp, publishedAt: Date.now() });
          const event = {
            tenantId: ROADS,
            citizen,
            reference: `APP-${randomUUID().slice(0, 8)}`,
            applicationType: 'Licence renewal',
            receivedAt: new Date().toISOString(),
          };
          await agency.publish('agency.application.received.v1', '/agencies/roads/licensing', `${ROADS}:${event.reference}`, event);
          await sleep(1000 / perSecond);
        }
      })();
      const phones = () => new Set(citizens.map((c) => digits(c.phone)));
      const ourSends = async () => {
        const wanted = phones();
        return (await sandboxSends()).filter((s) => wanted.has(s.waId));
      };
      const { killedAt, goneAt } = await killAndRestart('notification-scheduler', async () => (await ourSends()).length >= total / 3);
      await publishing;

      const subjects = new Set(citizens.map((c) => c.subjectId));
      const sentOutcomes = () =>
        byKey<{ subjectId: string; outcome: string }>(outcomes.records, (o) =>
          subjects.has(o.subjectId) && o.outcome === 'sent' ? o.subjectId : undefined,
        );
      await waitFor(() => sentOutcomes().size === total, {
        what: `(logs: ${stack.logDir}) a sent outcome for each of ${total} citizens`,
        timeoutMs: 360000,
        intervalMs: 1000,
      }).catch(() => undefined);
      // Anything late to arrive twice has had its chance.
      await sleep(scaled(10000, 5000));
      const sent = sentOutcomes();
      const sends = await ourSends();
      const perPhone = new Map<string, number>();
      for (const s of sends) perPhone.set(s.waId, (perPhone.get(s.waId) ?? 0) + 1);
      const lost = citizens.filter((c) => !perPhone.has(digits(c.phone)) || !sent.has(c.subjectId));
      const duplicateSends = [...perPhone.values()].reduce((n, c) => n + c - 1, 0);
      const duplicateOutcomes = [
        ...byKey<{ subjectId: string; outcome: string }>(outcomes.records, (o) =>
          subjects.has(o.subjectId) ? `${o.subjectId}:${o.outcome}` : undefined,
        ).values(),
      ].reduce((n, ids) => n + ids.size - 1, 0);
      // Events published after the kill are planned by the new process only: its first send.
      const afterKill = new Set(citizens.filter((c) => c.publishedAt > goneAt).map((c) => digits(c.phone)));
      const resumed = sends.filter((s) => afterKill.has(s.waId)).map((s) => s.acceptedAt);
      report({
        fault: 'kill -9 of notification-scheduler, restarted',
        load: `${total} agency events at ${perSecond}/s`,
        accepted: total,
        lost: lost.length,
        duplicates: duplicateSends + duplicateOutcomes,
        refused: 0,
        recoverySeconds: resumed.length > 0 ? (Math.min(...resumed) - killedAt) / 1000 : NaN,
      });

      expect(lost.map((c) => c.subjectId)).toEqual([]);
      expect(duplicateSends).toBe(0);
      expect(duplicateOutcomes).toBe(0);
    } finally {
      await outcomes.stop();
    }
  });
});

describe('fault: kill -9 of the template registry while templates are created through its API', () => {
  it('puts every approved template on templates.catalog.v1, none submitted or announced twice', async () => {
    const total = scaled(40, 12);
    const created = new Set<string>();
    const refusedAt: number[] = [];
    const answeredAt: number[] = [];
    const run = randomUUID().slice(0, 6).replace(/-/g, '');
    const definition = (name: string) => ({
      name,
      category: 'UTILITY',
      parameterFormat: 'named',
      translations: [
        {
          language: 'en',
          components: [
            {
              type: 'BODY',
              text: 'Hello {{first_name}}, your request was filed and is being handled by our office today.',
              example: { body_text_named_params: [{ param_name: 'first_name', example: 'Ana' }] },
            },
          ],
        },
      ],
    });
    // Like an editor's browser: a create that fails (the registry is gone) is sent again until it
    // is answered; a 409 then means the first attempt was committed before the kill.
    const create = async (name: string) => {
      for (;;) {
        const answer = await http(`${stack.url['template-registry']}/v1/templates`, {
          method: 'POST',
          token: token[ROADS],
          body: definition(name),
        }).catch(() => undefined);
        if (answer && (answer.status === 201 || answer.status === 200 || answer.status === 409)) {
          created.add(name);
          answeredAt.push(Date.now());
          return;
        }
        if (answer && answer.status < 500) throw new Error(`creating ${name} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        refusedAt.push(Date.now());
        await sleep(500);
      }
    };
    const names = Array.from({ length: total }, (_, i) => `fault_${run}_${i}`);
    const creating = (async () => {
      for (const name of names) {
        await create(name);
        await sleep(SHORT ? 300 : 500);
      }
    })();
    const { killedAt, goneAt } = await killAndRestart('template-registry', () => created.size >= total / 3);
    await creating;

    const catalogStatus = (name: string) => catalog.records.filter((r) => r.key === `${ROADS}:${name}:en`);
    const approvedOnCatalog = () => names.filter((n) => catalogStatus(n).some((r) => parse<{ status: string }>(r).status === 'APPROVED'));
    await waitFor(() => approvedOnCatalog().length === total, {
      what: `(logs: ${stack.logDir}) ${total} templates APPROVED on templates.catalog.v1`,
      timeoutMs: 300000,
      intervalMs: 1000,
    }).catch(() => undefined);
    const approved = approvedOnCatalog();
    const { body } = await http(`${stack.sandboxUrl}/sandbox/templates?wabaId=${ROADS_WABA}`);
    const atMeta = (body.data as { name: string; language: string }[]).filter((t) => names.includes(t.name));
    const perTranslation = new Map<string, number>();
    for (const t of atMeta) perTranslation.set(`${t.name}:${t.language}`, (perTranslation.get(`${t.name}:${t.language}`) ?? 0) + 1);
    const duplicateAtMeta = [...perTranslation.values()].reduce((n, c) => n + c - 1, 0);
    const duplicateApprovals = names.reduce(
      (n, name) =>
        n +
        Math.max(
          0,
          new Set(
            catalogStatus(name)
              .filter((r) => parse<{ status: string }>(r).status === 'APPROVED')
              .map(ceId),
          ).size - 1,
        ),
      0,
    );
    const lost = names.filter((n) => !created.has(n) || !approved.includes(n));
    report({
      fault: 'kill -9 of template-registry, restarted',
      load: `${total} templates created through the API, 1 client`,
      accepted: created.size,
      lost: lost.length,
      duplicates: duplicateAtMeta + duplicateApprovals,
      refused: refusedAt.filter((t) => t >= killedAt).length,
      recoverySeconds: (Math.min(...answeredAt.filter((t) => t > goneAt)) - killedAt) / 1000,
    });

    expect(lost).toEqual([]);
    expect(duplicateAtMeta).toBe(0);
    expect(duplicateApprovals).toBe(0);
  });
});
