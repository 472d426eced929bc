import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { citizenKeyOf, Topics, type CitizenConsentV1, type CitizenRef } from '@wa/contracts';
import { uuidV5 } from '@wa/conversation';
import { ConsumerHost, NonRetriableError, type BatchItem } from '@wa/kafka';
import { counter } from '@wa/observability';
import { SERVICE_ENV } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import { Clock } from '../common/clock';
import { schedulerOutbox, type OutboxItem } from '../common/outbox-batch';
import { returnedRows } from '../common/tenants';
import type { SchedulerEnv } from '../config/env';
import { consentRepository } from '../consent/consent.repository';
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

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1);
  return out;
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
      await this.recordConsents(m, fresh);
      await this.plan(m, fresh, policies, now);
    });
  }

  /**
   * A consent an agency event carries is recorded here at once (so this batch's notices already
   * see it) and published as `citizen.consent.v1` with the event as evidence, in the same
   * transaction, so the gateway records it as it records a STOP or START. The scheduler's own
   * consent consumer then receives it again and changes nothing (same occurrence time).
   */
  private async recordConsents(m: EntityManager, items: BatchItem[]): Promise<void> {
    const entries: OutboxItem<CitizenConsentV1>[] = [];
    for (const { envelope } of items) {
      const citizen = (envelope.data as { citizen?: CitizenRef }).citizen;
      const consent = citizen?.consent;
      if (!consent) continue;
      const citizenKey = citizenKeyOf({ phone: citizen.whatsapp });
      if (!citizenKey) continue;
      await consentRepository.record(m, {
        tenantId: envelope.tenantId,
        citizenKey,
        category: consent.category,
        state: consent.state,
        channel: consent.channel,
        occurredAt: consent.capturedAt,
      });
      const data: CitizenConsentV1 = {
        tenantId: envelope.tenantId,
        contact: { phone: citizen.whatsapp },
        category: consent.category,
        state: consent.state,
        channel: consent.channel,
        ...(consent.wording ? { wording: consent.wording } : {}),
        occurredAt: consent.capturedAt,
        evidence: {
          source: 'agency_event',
          eventId: envelope.id,
          ...(consent.reference ? { reference: consent.reference } : {}),
          at: consent.capturedAt,
        },
      };
      entries.push({
        spec: Topics.citizenConsent,
        data,
        id: uuidV5(JSON.stringify([envelope.tenantId, 'agency-consent', envelope.source, envelope.id])),
      });
    }
    if (entries.length) await schedulerOutbox.addMany(m, entries);
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
    const appliedCounts = new Map<string, number>();
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
        appliedCounts.set(`${envelope.tenantId}|${envelope.type}`, (appliedCounts.get(`${envelope.tenantId}|${envelope.type}`) ?? 0) + 1);
      } else {
        this.log.warn(
          { tenant: envelope.tenantId, eventId: envelope.id, type: envelope.type },
          'older than the last applied event; ignored',
        );
      }
    }
    appliedCounts.forEach((count, key) => {
      const [tenant, type] = key.split('|');
      applied.inc({ tenant, type }, count);
    });
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

  /*
   * Rows go to Postgres as one JSON array expanded by json_to_recordset: one JSON.stringify per
   * batch instead of a Postgres array literal per column (whose per-element escaping of the
   * payload JSON was a measurable share of the consumer's CPU).
   */
  private async saveSubjects(m: EntityManager, subjects: Subject[]): Promise<void> {
    const rows = subjects.map((s) => ({
      tenant_id: s.tenantId,
      kind: s.kind,
      ref: s.ref,
      subject_id: s.subjectId,
      whatsapp: s.whatsapp,
      language: s.language,
      time_zone: s.timeZone,
      status: s.status,
      notice_type: s.noticeType,
      due_date: s.dueDate,
      immediate: s.immediate,
      data: s.data,
      last_event_id: s.lastEventId,
      last_event_type: s.lastEventType,
      last_event_time: s.lastEventTime,
    }));
    await m.query(
      `INSERT INTO scheduler.subject (tenant_id, kind, ref, subject_id, whatsapp, language, time_zone, status, notice_type, due_date,
                                      immediate, data, last_event_id, last_event_type, last_event_time)
       SELECT tenant_id, kind, ref, subject_id, whatsapp, language, time_zone, status, notice_type, due_date,
              immediate, data, last_event_id, last_event_type, last_event_time
       FROM json_to_recordset($1::json) AS x(tenant_id text, kind text, ref text, subject_id text, whatsapp text, language text,
              time_zone text, status text, notice_type text, due_date date, immediate text, data jsonb, last_event_id text,
              last_event_type text, last_event_time timestamptz)
       ON CONFLICT (tenant_id, kind, ref) DO UPDATE SET
         subject_id = EXCLUDED.subject_id, whatsapp = EXCLUDED.whatsapp, language = EXCLUDED.language, time_zone = EXCLUDED.time_zone,
         status = EXCLUDED.status, notice_type = EXCLUDED.notice_type, due_date = EXCLUDED.due_date, immediate = EXCLUDED.immediate,
         data = EXCLUDED.data, last_event_id = EXCLUDED.last_event_id, last_event_type = EXCLUDED.last_event_type,
         last_event_time = EXCLUDED.last_event_time, updated_at = now()`,
      [JSON.stringify(rows)],
    );
  }

  /**
   * Inserts the plan's notices. An existing row with the same id is the same notice: left alone
   * when sent or finished (never sent twice), revived when it had been cancelled (a date changed
   * back), moved when still pending and its times changed (a new time zone, say).
   */
  private async saveNotices(m: EntityManager, notices: PlannedNotice[], subjects: Map<string, Subject>): Promise<void> {
    const rows = notices.map((n) => ({
      id: n.id,
      tenant_id: n.tenantId,
      kind: n.kind,
      ref: n.ref,
      subject_id: n.subjectId,
      notice_type: n.noticeType,
      slot: n.slot,
      catch_up: n.catchUp,
      due_date: n.dueDate,
      planned_at: new Date(n.plannedAt).toISOString(),
      due_at: new Date(n.dueAt).toISOString(),
      deadline_at: new Date(n.deadlineAt).toISOString(),
      source_event_id: subjects.get(keyOf(n.tenantId, n.kind, n.ref))!.lastEventId,
    }));
    await m.query(
      `INSERT INTO scheduler.notice (id, tenant_id, kind, ref, subject_id, notice_type, slot, catch_up, due_date, planned_at, due_at, deadline_at,
                                     status, source_event_id)
       SELECT id, tenant_id, kind, ref, subject_id, notice_type, slot, catch_up, due_date, planned_at, due_at, deadline_at, 'planned', source_event_id
       FROM json_to_recordset($1::json) AS x(id uuid, tenant_id text, kind text, ref text, subject_id text, notice_type text, slot text,
              catch_up boolean, due_date date, planned_at timestamptz, due_at timestamptz, deadline_at timestamptz, source_event_id text)
       ON CONFLICT (id) DO UPDATE SET
         status = 'planned', subject_id = EXCLUDED.subject_id, catch_up = EXCLUDED.catch_up, planned_at = EXCLUDED.planned_at,
         due_at = EXCLUDED.due_at, deadline_at = EXCLUDED.deadline_at, source_event_id = EXCLUDED.source_event_id, detail = NULL, updated_at = now()
       WHERE notice.status = 'cancelled'
          OR (notice.status = 'planned' AND EXCLUDED.slot <> 'now'
              AND (notice.due_at, notice.deadline_at) IS DISTINCT FROM (EXCLUDED.due_at, EXCLUDED.deadline_at))`,
      [JSON.stringify(rows)],
    );
    // Counted from the plan (written or confirmed), not from RETURNING: parsing a row per notice back costs more than it tells.
    countBy(notices, (n) => `${n.tenantId}|${n.noticeType}`).forEach((count, key) => {
      const [tenant, noticeType] = key.split('|');
      noticesPlanned.inc({ tenant, notice_type: noticeType }, count);
    });
  }
}
