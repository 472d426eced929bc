// Notification scheduler throughput, end to end on the real broker and Postgres, with the service
// booted as main.ts boots it (same module, consumers, outbox relay), a manual clock and one replica:
//   1. planning: N expiry events (spread over a year) are published first, then the scheduler
//      consumes and plans them; events/s = N / (last planned - first planned).
//   2. dispatch: M of the planned notices are made due at once; the due sweep claims them, writes
//      send requests to the outbox and the relay publishes them; notices/s = M / (last request on
//      the send topic - sweep start); duplicates = records on the topic - distinct request ids.
// Usage: npm run bench:scheduler [-- --events 1000000 --notices 100000 --keep]
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { Client } from 'pg';
import { Partitioners } from 'kafkajs';
import { CE, Topics, type TemplateCatalogEntryV1 } from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { metricsRegistry } from '@wa/observability';
import { createTestDatabase, createTestKafka, startTestService, type TestService } from '@wa/testing';
import { AppModule } from '../services/notification-scheduler/src/app.module';
import { ManualClock } from '../services/notification-scheduler/src/common/clock';
import { DispatchService } from '../services/notification-scheduler/src/dispatch/dispatch.service';
import { AGENCY_EVENT_TYPES } from '../services/notification-scheduler/src/planning/plan';
import { addDays } from '../services/notification-scheduler/src/planning/zoned-time';
import { notificationSchedulerService } from '../services/notification-scheduler/src/service';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const EVENTS = arg('events', 1_000_000);
const NOTICES = Math.min(arg('notices', 100_000), EVENTS * 2);
const KEEP = process.argv.includes('--keep');
const START = '2026-01-05';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint() / 1_000_000n);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

// Two tenants, several languages and zones (some citizens carry their own), like real traffic.
const CITIZEN_ZONES = [undefined, undefined, undefined, 'Europe/Madrid', 'America/New_York'];
function expiryEvent(i: number) {
  const roads = i % 2 === 0;
  const tenantId = roads ? 'roads-agency' : 'immigration-dept';
  const documentId = `DOC-${i}`;
  const timeZone = CITIZEN_ZONES[i % CITIZEN_ZONES.length];
  // Expiries from 60 to 425 days out: both reminders (6 weeks and 1 week before) lie ahead.
  const expiresOn = addDays(START, 60 + (i % 366));
  const data = {
    tenantId,
    citizen: {
      subjectId: `CIT-${i}`,
      whatsapp: `+${roads ? '57300' : '97150'}${String(i).padStart(7, '0')}`,
      preferredLanguage: roads ? ['es', 'en', 'pt_BR'][i % 3] : ['ar', 'en'][i % 2],
      name: 'Ana',
      ...(timeZone ? { timeZone } : {}),
    },
    document: { documentId, documentType: roads ? 'driving_licence' : 'residence_visa' },
    expiresOn,
    renewalUrl: 'https://agency.example.gov/renew',
  };
  return {
    key: `${tenantId}:${documentId}`,
    value: JSON.stringify(data),
    headers: {
      [CE.specversion]: '1.0',
      [CE.id]: randomUUID(),
      [CE.type]: AGENCY_EVENT_TYPES.expiring,
      [CE.source]: '/bench/agency',
      [CE.time]: new Date().toISOString(),
      [CE.tenant]: tenantId,
      [CE.contentType]: 'application/json',
    },
  };
}

function catalog(tenantId: string, name: string, language: string): TemplateCatalogEntryV1 {
  return {
    tenantId,
    name,
    language,
    category: 'UTILITY',
    status: 'APPROVED',
    parameterFormat: 'named',
    parameters: [
      { component: 'body', name: 'first_name', type: 'text', required: true },
      { component: 'body', name: 'document_type', type: 'text', required: true },
      { component: 'body', name: 'expiry_date', type: 'text', required: true },
    ],
    components: [{ type: 'BODY', text: 'Hello {{first_name}}, your {{document_type}} expires on {{expiry_date}}.' }],
    version: 1,
    updatedAt: new Date().toISOString(),
  } as TemplateCatalogEntryV1;
}

async function count(pg: Client, sql: string): Promise<number> {
  return (await pg.query(sql)).rows[0].n;
}

/**
 * Agency events the scheduler has applied (committed), from its own consumer metric: polling
 * count(*) on a million-row table every second would load the database being measured.
 */
async function appliedEvents(): Promise<number> {
  const metric = metricsRegistry.getSingleMetric('kafka_consumed_records_total');
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => v.labels.topic === Topics.agencyEvent.name && v.labels.outcome === 'ok').reduce((sum, v) => sum + v.value, 0);
}

async function main(): Promise<void> {
  console.log(`scheduler bench: ${fmt(EVENTS)} expiry events, ${fmt(NOTICES)} due notices; load average ${load()}`);
  const tk = await createTestKafka('bench-sched');
  const db = await createTestDatabase(['scheduler']);
  const pg = new Client({ connectionString: db.adminUrl });
  await pg.connect();
  const services: TestService[] = [];
  try {
    // --- publish the agency events (the agency's side, timed on its own) ---
    const producer = tk.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const topic = `${tk.prefix}${Topics.agencyEvent.name}`;
    const publishStart = now();
    const BATCH = 5000;
    for (let sent = 0; sent < EVENTS; sent += BATCH) {
      const messages = Array.from({ length: Math.min(BATCH, EVENTS - sent) }, (_, j) => expiryEvent(sent + j));
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] });
    }
    const publishSeconds = (now() - publishStart) / 1000;
    console.log(
      `published ${fmt(EVENTS)} events in ${publishSeconds.toFixed(1)} s (${fmt(EVENTS / publishSeconds)} events/s, raw kafkajs, acks=all)`,
    );
    await producer.disconnect();

    const lib = new EventProducer(tk.kafka, tk.options, '/bench/registry');
    await lib.connect();
    for (const [tenant, name, languages] of [
      ['roads-agency', 'document_expiring', ['es', 'en']],
      ['immigration-dept', 'document_expiring', ['ar', 'en']],
    ] as const) {
      for (const language of languages) await lib.publish(Topics.templateCatalog, catalog(tenant, name, language));
    }
    await lib.disconnect();

    // --- phase 1: planning ---
    const clock = new ManualClock(`${START}T14:00:00Z`);
    const bootStart = now();
    services.push(
      await startTestService(notificationSchedulerService, (env) => AppModule.forRoot(env, { clock }), tk, {
        db,
        env: { SCHEDULER_SWEEP_ENABLED: 'false', AUTH_SANDBOX_SECRET: 'bench-only-sandbox-secret-0123456789abcdef' },
      }),
    );
    console.log(`scheduler booted in ${((now() - bootStart) / 1000).toFixed(1)} s; planning...`);
    let first = 0;
    let last = 0;
    let applied = 0;
    const samples: string[] = [];
    for (;;) {
      applied = await appliedEvents();
      const t = now();
      if (applied > 0 && first === 0) first = t;
      if (applied >= EVENTS) {
        last = t;
        break;
      }
      if (first && samples.length < 2000 && (samples.length === 0 || t - first >= samples.length * 10_000))
        samples.push(`${((t - first) / 1000).toFixed(0)}s:${fmt(applied)}`);
      await sleep(applied === 0 ? 50 : 250);
    }
    const planningSeconds = (last - first) / 1000;
    const totalPlanningSeconds = (last - bootStart) / 1000;
    const inbox = await count(pg, `SELECT count(*)::int AS n FROM scheduler.inbox WHERE consumer = 'agency-events'`);
    const notices = await count(pg, `SELECT count(*)::int AS n FROM scheduler.notice`);
    if (inbox !== EVENTS) throw new Error(`the inbox holds ${inbox} events, expected ${EVENTS}`);
    console.log(`progress (s:events): ${samples.join(' ')}`);
    console.log(
      `PLANNING: ${fmt(EVENTS)} events planned in ${planningSeconds.toFixed(1)} s (first to last) = ${fmt(EVENTS / planningSeconds)} events/s ` +
        `[goal >= 5,000]; ${totalPlanningSeconds.toFixed(1)} s including boot; ${fmt(notices)} notices planned (expected ${fmt(EVENTS * 2)}); load ${load()}`,
    );

    // --- phase 2: dispatch ---
    // The earliest M reminders are made due at 14:00Z on the first reminder day (inside every
    // zone's sending window here); their deadlines (the next reminder) lie weeks ahead.
    const firstDue: Date = (await pg.query(`SELECT min(due_at) AS t FROM scheduler.notice WHERE status = 'planned'`)).rows[0].t;
    const at = new Date(Date.UTC(firstDue.getUTCFullYear(), firstDue.getUTCMonth(), firstDue.getUTCDate(), 14, 0));
    await pg.query(
      `UPDATE scheduler.notice SET due_at = $1 WHERE id IN (SELECT id FROM scheduler.notice WHERE status = 'planned' ORDER BY due_at LIMIT $2)`,
      [new Date(at.getTime() - 60_000), NOTICES],
    );
    await pg.query('ANALYZE scheduler.notice');
    clock.set(at);
    const seen = new Set<string>();
    let records = 0;
    let lastArrival = 0;
    const consumer = tk.kafka.consumer({
      groupId: `${tk.prefix}bench-collector`,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: 8 << 20,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: `${tk.prefix}${Topics.outboundRequest.name}`, fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: 12,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          records++;
          seen.add(m.headers![CE.id]!.toString());
        }
        lastArrival = now();
      },
    });
    await sleep(3000); // let the collector join before the clock starts
    const dispatchStart = now();
    for (const s of services) s.app.get(DispatchService).start();
    while (seen.size < NOTICES) {
      await sleep(250);
      if (now() - dispatchStart > 30 * 60_000) throw new Error(`only ${seen.size} of ${NOTICES} requests after 30 min`);
    }
    const dispatchSeconds = (lastArrival - dispatchStart) / 1000;
    await sleep(3000); // late duplicates, if any, would arrive now
    const statuses = (await pg.query(`SELECT status, count(*)::int AS n FROM scheduler.notice WHERE due_at <= $1 GROUP BY status`, [at]))
      .rows;
    console.log(
      `DISPATCH: ${fmt(seen.size)} notices reached ${Topics.outboundRequest.name} in ${dispatchSeconds.toFixed(1)} s = ${fmt(seen.size / dispatchSeconds)} notices/s ` +
        `[goal >= 2,000]; records ${fmt(records)}, duplicates ${records - seen.size} [must be 0]; statuses ${statuses.map((s) => `${s.status}=${s.n}`).join(' ')}; load ${load()}`,
    );
    await consumer.disconnect();
  } finally {
    for (const s of services) await s.close().catch(() => undefined);
    await pg.end();
    if (!KEEP) {
      await db.drop();
      await tk.cleanup();
    } else {
      console.log(`kept database ${db.name} and topics ${tk.prefix}*`);
    }
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
