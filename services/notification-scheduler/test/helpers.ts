import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import {
  Topics,
  type DocumentExpiringV1,
  type NotificationOutcomeV1,
  type OutboundRequestV1,
  type TemplateCatalogEntryV1,
} from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { startTestService, waitFor, type Collector, type TestDatabase, type TestKafka, type TestService } from '@wa/testing';
import { AppModule } from '../src/app.module';
import { ManualClock } from '../src/common/clock';
import { DispatchService } from '../src/dispatch/dispatch.service';
import { notificationSchedulerService } from '../src/service';

export const SANDBOX_SECRET = 'scheduler-tests-sandbox-signing-secret-0123456789';

export interface Scheduler {
  service: TestService;
  clock: ManualClock;
  sweep(): Promise<number>;
}

/** Boots the scheduler as main.ts does, with a manual clock and the background sweep off. */
export async function startScheduler(
  tk: TestKafka,
  start: string,
  options: { db?: TestDatabase; env?: Record<string, string> } = {},
): Promise<Scheduler> {
  const clock = new ManualClock(start);
  const service = await startTestService(notificationSchedulerService, (env) => AppModule.forRoot(env, { clock }), tk, {
    db: options.db,
    env: { SCHEDULER_SWEEP_ENABLED: 'false', AUTH_SANDBOX_SECRET: SANDBOX_SECRET, ...options.env },
  });
  const dispatch = service.app.get(DispatchService);
  return {
    service,
    clock,
    async sweep() {
      let total = 0;
      for (;;) {
        const n = await dispatch.sweepOnce();
        total += n;
        if (n === 0) return total;
      }
    },
  };
}

export async function pgClient(db: TestDatabase): Promise<Client> {
  const pg = new Client({ connectionString: db.adminUrl });
  await pg.connect();
  return pg;
}

export interface NoticeRow {
  id: string;
  ref: string;
  slot: string;
  status: string;
  due_at: Date;
  deadline_at: Date;
  catch_up: boolean;
  detail: string | null;
  template_name: string | null;
  language: string | null;
}

export async function noticesOf(pg: Client, ref: string): Promise<NoticeRow[]> {
  const r = await pg.query('SELECT * FROM scheduler.notice WHERE ref = $1 ORDER BY due_at, slot', [ref]);
  return r.rows;
}

/** Waits until the subject has applied the event `eventId` (the planning consumer is asynchronous). */
export async function waitApplied(pg: Client, ref: string, eventId: string): Promise<void> {
  await waitFor(
    async () => {
      const r = await pg.query('SELECT last_event_id FROM scheduler.subject WHERE ref = $1', [ref]);
      return r.rows[0]?.last_event_id === eventId;
    },
    { what: `event ${eventId} applied to ${ref}`, timeoutMs: 60000 },
  );
}

let counter = 0;
export const uniqueRef = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++counter}`;
export const uniquePhone = () => `+5730${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

export function expiringEvent(
  documentId: string,
  expiresOn: string,
  citizen: Partial<DocumentExpiringV1['citizen']> = {},
  tenantId = 'roads-agency',
): DocumentExpiringV1 {
  return {
    tenantId,
    citizen: { subjectId: `cit-${documentId}`, whatsapp: uniquePhone(), preferredLanguage: 'es', name: 'Ana', ...citizen },
    document: { documentId, documentType: 'driving_licence' },
    expiresOn,
    renewalUrl: 'https://roads.example.gov/renew',
    office: 'Oficina Central',
  } as DocumentExpiringV1;
}

export class Publisher {
  constructor(private readonly producer: EventProducer) {}

  /** Publishes an agency event; returns its ce_id. */
  async agency(type: string, data: object, options: { id?: string; time?: Date } = {}): Promise<string> {
    const id = options.id ?? randomUUID();
    await this.producer.publish(Topics.agencyEvent, data as never, { type, id, time: options.time });
    return id;
  }
}

export function catalogEntry(
  name: string,
  language: string,
  status = 'APPROVED',
  tenantId = 'roads-agency',
  version = 1,
): TemplateCatalogEntryV1 {
  return {
    tenantId,
    name,
    language,
    category: 'UTILITY',
    status,
    parameterFormat: 'named',
    parameters: [
      { component: 'body', name: 'first_name', type: 'text', required: true },
      { component: 'body', name: 'document_type', type: 'text', required: true },
      { component: 'body', name: 'expiry_date', type: 'text', required: true },
    ],
    components: [
      {
        type: 'BODY',
        text: 'Hola {{first_name}}, su {{document_type}} vence el {{expiry_date}}.',
        example: {
          body_text_named_params: [
            { param_name: 'first_name', example: 'Ana' },
            { param_name: 'document_type', example: 'licencia' },
            { param_name: 'expiry_date', example: '30 de junio de 2026' },
          ],
        },
      },
    ],
    version,
    updatedAt: new Date().toISOString(),
  } as TemplateCatalogEntryV1;
}

export async function waitCatalog(pg: Client, name: string, language: string, status: string): Promise<void> {
  await waitFor(
    async () => {
      const r = await pg.query('SELECT status FROM scheduler.template_catalog WHERE name = $1 AND language = $2', [name, language]);
      return r.rows[0]?.status === status;
    },
    { what: `catalog ${name}/${language} ${status}`, timeoutMs: 60000 },
  );
}

export const requestsIn = (c: Collector) => c.records.map((r) => JSON.parse(r.value!) as OutboundRequestV1);
export const outcomesIn = (c: Collector) => c.records.map((r) => JSON.parse(r.value!) as NotificationOutcomeV1);
