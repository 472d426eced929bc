import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Topics } from '@wa/contracts';
import { ConsumerHost, NonRetriableError, type BatchItem } from '@wa/kafka';
import { counter } from '@wa/observability';
import { SERVICE_ENV } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import { Clock } from '../common/clock';
import { returnedRows } from '../common/tenants';
import type { SchedulerEnv } from '../config/env';
import type { EffectivePolicy } from '../policy/policy.model';
import { PolicyService } from '../policy/policy.service';
import { applyEvent, planNotices, subjectKeyOf, type PlannedNotice, type Subject, type SubjectKind } from './plan';

const INBOX_CONSUMER = 'agency-events';

const applied = counter('scheduler_agency_events_applied_total', 'Agency events applied to plans', ['tenant', 'type']);
const noticesPlanned = counter('scheduler_notices_planned_total', 'Notices created or replanned', ['tenant', 'notice_type']);
const noticesCancelled = counter('scheduler_notices_cancelled_total', 'Pending notices cancelled by a later event', ['tenant']);

interface SubjectRow {
  tenant_id: string;
  kind: SubjectKind;
  ref: string;
  subject_id: string;
  whatsapp: string;
  language: string | null;
  time_zone: string | null;
  status: Subject['status'];
  notice_type: Subject['noticeType'];
  due_date: string | null;
  immediate: Subject['immediate'];
  data: Record<string, unknown>;
  last_event_id: string;
  last_event_type: string;
  last_event_time: Date | null;
}

const keyOf = (tenantId: string, kind: string, ref: string) => `${tenantId}\u0000${kind}\u0000${ref}`;

function fromRow(r: SubjectRow): Subject {
  return {
    tenantId: r.tenant_id,
    kind: r.kind,
    ref: r.ref,
    subjectId: r.subject_id,
    whatsapp: r.whatsapp,
    language: r.language,
    timeZone: r.time_zone,
    status: r.status,
    noticeType: r.notice_type,
    dueDate: r.due_date,
    immediate: r.immediate,
    data: r.data,
    lastEventId: r.last_event_id,
    lastEventType: r.last_event_type,
    lastEventTime: r.last_event_time ? r.last_event_time.toISOString() : null,
    reason: '',
  };
}

/**
 * Turns agency events into plans. Records arrive in batches (ConsumerHost batch handler) and are
 * applied with a handful of multi-row statements per batch, in one transaction with the inbox, so
 * a redelivered batch changes nothing. Per subject, events apply in partition order; ce_time
 * guards against older events that come back from the retry topic.
 */
@Injectable()
export class PlanningService {
  private readonly log = new Logger('Planning');

  constructor(
    private readonly dataSource: DataSource,
    host: ConsumerHost,
    private readonly registry: TenantRegistry,
    private readonly policies: PolicyService,
    private readonly clock: Clock,
    @Inject(SERVICE_ENV) env: SchedulerEnv,
  ) {
    // In the constructor: the app starts consuming before Nest runs onModuleInit hooks.
    host.registerBatch(Topics.agencyEvent, (items) => this.apply(items), { maxBatchSize: env.SCHEDULER_PLANNING_BATCH });
  }

  async apply(items: BatchItem[]): Promise<void> {
    for (const { envelope } of items) {
      if (!this.registry.tenant(envelope.tenantId)) {
        // The host replays the batch record by record, so only this record is dead-lettered.
        throw new NonRetriableError(`tenant ${envelope.tenantId} is not in the tenants file`, 'unknown-tenant');
      }
    }
    const now = this.clock.now().getTime();
    const policies = await this.policies.effectiveMany(items.map((i) => i.envelope.tenantId));
    await this.dataSource.transaction(async (m) => {
      const fresh = await this.claimInbox(m, items);
      if (fresh.length === 0) return;
      await this.plan(m, fresh, policies, now);
    });
  }

  /** Inbox rows for the batch; returns the items not applied before (first occurrence only). */
  private async claimInbox(m: EntityManager, items: BatchItem[]): Promise<BatchItem[]> {
    const idOf = (i: BatchItem) => `${i.envelope.source}|${i.envelope.id}`;
    const rows: { message_id: string }[] = await m.query(
      `INSERT INTO scheduler.inbox (consumer, message_id) SELECT $1, x FROM unnest($2::text[]) AS x
       ON CONFLICT DO NOTHING RETURNING message_id`,
      [INBOX_CONSUMER, items.map(idOf)],
    );
    const fresh = new Set(rows.map((r) => r.message_id));
    return items.filter((i) => fresh.delete(idOf(i)));
  }

  private async plan(m: EntityManager, items: BatchItem[], policies: Map<string, EffectivePolicy>, now: number): Promise<void> {
    const keys = new Map<string, { tenantId: string; kind: SubjectKind; ref: string }>();
    for (const { envelope } of items) {
      const { kind, ref } = subjectKeyOf(envelope.type, envelope.data as object);
      keys.set(keyOf(envelope.tenantId, kind, ref), { tenantId: envelope.tenantId, kind, ref });
    }
    const list = [...keys.values()];
    const existing: SubjectRow[] = await m.query(
      `SELECT s.tenant_id, s.kind, s.ref, s.subject_id, s.whatsapp, s.language, s.time_zone, s.status, s.notice_type,
              s.due_date::text AS due_date, s.immediate, s.data, s.last_event_id, s.last_event_type, s.last_event_time
       FROM scheduler.subject s
       JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(tenant_id, kind, ref)
         ON s.tenant_id = k.tenant_id AND s.kind = k.kind AND s.ref = k.ref
       FOR UPDATE OF s`,
      [list.map((k) => k.tenantId), list.map((k) => k.kind), list.map((k) => k.ref)],
    );
    const before = new Map(existing.map((r) => [keyOf(r.tenant_id, r.kind, r.ref), fromRow(r)]));
    const after = new Map<string, Subject>();
    for (const { envelope } of items) {
      const { kind, ref } = subjectKeyOf(envelope.type, envelope.data as object);
      const key = keyOf(envelope.tenantId, kind, ref);
      const next = applyEvent(after.get(key) ?? before.get(key), {
        id: envelope.id,
        type: envelope.type,
        time: envelope.time,
        tenantId: envelope.tenantId,
        data: envelope.data as object,
      });
      if (next) {
        after.set(key, next);
        applied.inc({ tenant: envelope.tenantId, type: envelope.type });
      } else {
        this.log.warn(
          { tenant: envelope.tenantId, eventId: envelope.id, type: envelope.type },
          'older than the last applied event; ignored',
        );
      }
    }
    if (after.size === 0) return;

    const subjects = [...after.entries()];
    const notices: PlannedNotice[] = [];
    for (const [, subject] of subjects) notices.push(...planNotices(subject, policies.get(subject.tenantId)!, now));
    await this.saveSubjects(
      m,
      subjects.map(([, s]) => s),
    );
    // Pending notices of known subjects that the new plan no longer has: cancelled, with the reason.
    const replanned = subjects.filter(([key]) => before.has(key)).map(([, s]) => s);
    if (replanned.length) {
      const cancelled = returnedRows<{ tenant_id: string }>(
        await m.query(
          `UPDATE scheduler.notice n SET status = 'cancelled', detail = k.reason, updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS k(tenant_id, kind, ref, reason)
         WHERE n.tenant_id = k.tenant_id AND n.kind = k.kind AND n.ref = k.ref
           AND n.status = 'planned' AND NOT (n.id = ANY($5::uuid[]))
         RETURNING n.tenant_id`,
          [
            replanned.map((s) => s.tenantId),
            replanned.map((s) => s.kind),
            replanned.map((s) => s.ref),
            replanned.map((s) => s.reason || 'replanned'),
            notices.map((n) => n.id),
          ],
        ),
      );
      for (const c of cancelled) noticesCancelled.inc({ tenant: c.tenant_id });
    }
    if (notices.length) await this.saveNotices(m, notices, after);
  }

  private async saveSubjects(m: EntityManager, subjects: Subject[]): Promise<void> {
    const col = <T>(f: (s: Subject) => T) => subjects.map(f);
    await m.query(
      `INSERT INTO scheduler.subject (tenant_id, kind, ref, subject_id, whatsapp, language, time_zone, status, notice_type, due_date,
                                      immediate, data, last_event_id, last_event_type, last_event_time)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                            $10::date[], $11::text[], $12::jsonb[], $13::text[], $14::text[], $15::timestamptz[])
       ON CONFLICT (tenant_id, kind, ref) DO UPDATE SET
         subject_id = EXCLUDED.subject_id, whatsapp = EXCLUDED.whatsapp, language = EXCLUDED.language, time_zone = EXCLUDED.time_zone,
         status = EXCLUDED.status, notice_type = EXCLUDED.notice_type, due_date = EXCLUDED.due_date, immediate = EXCLUDED.immediate,
         data = EXCLUDED.data, last_event_id = EXCLUDED.last_event_id, last_event_type = EXCLUDED.last_event_type,
         last_event_time = EXCLUDED.last_event_time, updated_at = now()`,
      [
        col((s) => s.tenantId),
        col((s) => s.kind),
        col((s) => s.ref),
        col((s) => s.subjectId),
        col((s) => s.whatsapp),
        col((s) => s.language),
        col((s) => s.timeZone),
        col((s) => s.status),
        col((s) => s.noticeType),
        col((s) => s.dueDate),
        col((s) => s.immediate),
        col((s) => JSON.stringify(s.data)),
        col((s) => s.lastEventId),
        col((s) => s.lastEventType),
        col((s) => s.lastEventTime),
      ],
    );
  }

  /**
   * Inserts the plan's notices. An existing row with the same id is the same notice: left alone
   * when sent or finished (never sent twice), revived when it had been cancelled (a date changed
   * back), moved when still pending and its times changed (a new time zone, say).
   */
  private async saveNotices(m: EntityManager, notices: PlannedNotice[], subjects: Map<string, Subject>): Promise<void> {
    const col = <T>(f: (n: PlannedNotice) => T) => notices.map(f);
    const sourceOf = (n: PlannedNotice) => subjects.get(keyOf(n.tenantId, n.kind, n.ref))!.lastEventId;
    const rows: { tenant_id: string; notice_type: string }[] = await m.query(
      `INSERT INTO scheduler.notice (id, tenant_id, kind, ref, subject_id, notice_type, slot, catch_up, due_date, planned_at, due_at, deadline_at,
                                     status, source_event_id)
       SELECT id, tenant_id, kind, ref, subject_id, notice_type, slot, catch_up, due_date, planned_at, due_at, deadline_at, 'planned', source_event_id
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::boolean[], $9::date[],
                   $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::text[])
         AS x(id, tenant_id, kind, ref, subject_id, notice_type, slot, catch_up, due_date, planned_at, due_at, deadline_at, source_event_id)
       ON CONFLICT (id) DO UPDATE SET
         status = 'planned', subject_id = EXCLUDED.subject_id, catch_up = EXCLUDED.catch_up, planned_at = EXCLUDED.planned_at,
         due_at = EXCLUDED.due_at, deadline_at = EXCLUDED.deadline_at, source_event_id = EXCLUDED.source_event_id, detail = NULL, updated_at = now()
       WHERE notice.status = 'cancelled'
          OR (notice.status = 'planned' AND EXCLUDED.slot <> 'now'
              AND (notice.due_at, notice.deadline_at) IS DISTINCT FROM (EXCLUDED.due_at, EXCLUDED.deadline_at))
       RETURNING tenant_id, notice_type`,
      [
        col((n) => n.id),
        col((n) => n.tenantId),
        col((n) => n.kind),
        col((n) => n.ref),
        col((n) => n.subjectId),
        col((n) => n.noticeType),
        col((n) => n.slot),
        col((n) => n.catchUp),
        col((n) => n.dueDate),
        col((n) => new Date(n.plannedAt)),
        col((n) => new Date(n.dueAt)),
        col((n) => new Date(n.deadlineAt)),
        col(sourceOf),
      ],
    );
    for (const r of rows) noticesPlanned.inc({ tenant: r.tenant_id, notice_type: r.notice_type });
  }
}
