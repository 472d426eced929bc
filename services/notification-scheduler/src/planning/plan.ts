import type {
  ApplicationReceivedV1,
  DocumentCancelledV1,
  DocumentExpiringV1,
  DocumentRenewedV1,
  DocumentsReadyV1,
  NoticeType,
  PaymentDueV1,
  PaymentReceivedV1,
} from '@wa/contracts';
import { uuidV5 } from '@wa/conversation';
import type { EffectivePolicy } from '../policy/policy.model';
import { dateBefore } from './offsets';
import { addDays, nextAllowed, zonedInstant } from './zoned-time';

/*
 * The pure core of planning: an agency event updates the state of what it is about (a document, a
 * payment, a collection, an application), and that state plus the tenant's policy and the current
 * time give the notices that should exist. The consumer stores both and diffs the notices.
 */

export const SUBJECT_KINDS = ['document', 'payment', 'collection', 'application'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];
export type SubjectStatus = 'active' | 'renewed' | 'cancelled' | 'paid' | 'received';

export const AGENCY_EVENT_TYPES = {
  expiring: 'agency.document.expiring.v1',
  renewed: 'agency.document.renewed.v1',
  cancelled: 'agency.document.cancelled.v1',
  expiryChanged: 'agency.document.expiry-changed.v1',
  paymentDue: 'agency.payment.due.v1',
  paymentReceived: 'agency.payment.received.v1',
  documentsReady: 'agency.documents.ready.v1',
  applicationReceived: 'agency.application.received.v1',
} as const;

/** What an agency's events are about, as stored in scheduler.subject. */
export interface Subject {
  tenantId: string;
  kind: SubjectKind;
  ref: string;
  subjectId: string;
  /** E.164 with +. */
  whatsapp: string;
  language: string | null;
  /** The citizen's own zone, when the agency gave one. */
  timeZone: string | null;
  status: SubjectStatus;
  /** The dated notice type of this subject (reminders count back from dueDate). */
  noticeType: NoticeType;
  dueDate: string | null;
  /** A one-off notice to send as soon as allowed (receipt, documents ready). */
  immediate: NoticeType | null;
  /** The merged payloads of its events: template values are derived from it at send time. */
  data: Record<string, unknown>;
  lastEventId: string;
  lastEventType: string;
  /** ce_time of the last applied event (ISO), used to ignore events that arrive out of order. */
  lastEventTime: string | null;
  /** Why the last event changed the plan (shown on cancelled notices). */
  reason: string;
}

export interface AgencyEvent {
  id: string;
  type: string;
  /** ce_time; may be empty. */
  time: string;
  tenantId: string;
  data: object;
}

export function subjectKeyOf(type: string, data: object): { kind: SubjectKind; ref: string } {
  const d = data as { document?: { documentId: string }; reference?: string };
  switch (type) {
    case AGENCY_EVENT_TYPES.expiring:
    case AGENCY_EVENT_TYPES.renewed:
    case AGENCY_EVENT_TYPES.cancelled:
    case AGENCY_EVENT_TYPES.expiryChanged:
      return { kind: 'document', ref: d.document!.documentId };
    case AGENCY_EVENT_TYPES.paymentDue:
    case AGENCY_EVENT_TYPES.paymentReceived:
      return { kind: 'payment', ref: d.reference! };
    case AGENCY_EVENT_TYPES.documentsReady:
      return { kind: 'collection', ref: d.reference! };
    case AGENCY_EVENT_TYPES.applicationReceived:
      return { kind: 'application', ref: d.reference! };
    default:
      throw new Error(`unknown agency event type ${type}`);
  }
}

function timeOf(iso: string | null | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * The subject after `event`, or undefined when the event is older (by ce_time) than the last one
 * applied: a record that came back from the retry topic must not undo a later renewal.
 */
export function applyEvent(current: Subject | undefined, event: AgencyEvent): Subject | undefined {
  const eventTime = timeOf(event.time);
  const lastTime = timeOf(current?.lastEventTime);
  if (eventTime !== undefined && lastTime !== undefined && eventTime < lastTime) return undefined;

  const { kind, ref } = subjectKeyOf(event.type, event.data);
  const payload = event.data as { citizen: { subjectId: string; whatsapp: string; preferredLanguage?: string; timeZone?: string } };
  const citizen = payload.citizen;
  // Later events may omit values an earlier one gave (a renewal carries no renewal link, a receipt
  // no citizen name): merge, the citizen's fields one by one.
  const data = {
    ...(current?.data ?? {}),
    ...(event.data as Record<string, unknown>),
    citizen: { ...((current?.data.citizen as object | undefined) ?? {}), ...citizen },
  };
  const base: Subject = {
    tenantId: event.tenantId,
    kind,
    ref,
    subjectId: citizen.subjectId,
    whatsapp: citizen.whatsapp,
    language: citizen.preferredLanguage ?? current?.language ?? null,
    timeZone: citizen.timeZone ?? current?.timeZone ?? null,
    status: current?.status ?? 'active',
    noticeType: current?.noticeType ?? 'document_expiry',
    dueDate: current?.dueDate ?? null,
    immediate: current?.immediate ?? null,
    data,
    lastEventId: event.id,
    lastEventType: event.type,
    lastEventTime: eventTime !== undefined ? new Date(eventTime).toISOString() : (current?.lastEventTime ?? null),
    reason: '',
  };

  switch (event.type) {
    case AGENCY_EVENT_TYPES.expiring:
    case AGENCY_EVENT_TYPES.expiryChanged: {
      const e = event.data as DocumentExpiringV1;
      const changed = current?.dueDate && current.dueDate !== e.expiresOn;
      return {
        ...base,
        status: 'active',
        noticeType: 'document_expiry',
        dueDate: e.expiresOn,
        immediate: null,
        reason: changed ? `expiry changed from ${current!.dueDate} to ${e.expiresOn}` : 'replanned',
      };
    }
    case AGENCY_EVENT_TYPES.renewed: {
      const e = event.data as DocumentRenewedV1;
      if (e.newExpiresOn) {
        return {
          ...base,
          status: 'active',
          noticeType: 'document_expiry',
          dueDate: e.newExpiresOn,
          immediate: null,
          data: { ...data, expiresOn: e.newExpiresOn },
          reason: `renewed until ${e.newExpiresOn}`,
        };
      }
      return { ...base, status: 'renewed', noticeType: 'document_expiry', immediate: null, reason: 'document renewed' };
    }
    case AGENCY_EVENT_TYPES.cancelled: {
      const e = event.data as DocumentCancelledV1;
      return {
        ...base,
        status: 'cancelled',
        noticeType: 'document_expiry',
        immediate: null,
        reason: `document cancelled${e.reason ? `: ${e.reason}` : ''}`,
      };
    }
    case AGENCY_EVENT_TYPES.paymentDue: {
      const e = event.data as PaymentDueV1;
      return {
        ...base,
        status: 'active',
        noticeType: 'payment_due',
        dueDate: e.dueOn,
        immediate: null,
        reason: current?.dueDate && current.dueDate !== e.dueOn ? `due date changed from ${current.dueDate} to ${e.dueOn}` : 'replanned',
      };
    }
    case AGENCY_EVENT_TYPES.paymentReceived: {
      const e = event.data as PaymentReceivedV1;
      return {
        ...base,
        status: 'paid',
        noticeType: 'payment_due',
        immediate: 'payment_received',
        reason: `payment received ${e.receivedAt}`,
      };
    }
    case AGENCY_EVENT_TYPES.documentsReady: {
      const e = event.data as DocumentsReadyV1;
      return {
        ...base,
        status: 'active',
        noticeType: 'documents_ready',
        dueDate: e.availableUntil ?? null,
        immediate: 'documents_ready',
        reason: 'replanned',
      };
    }
    case AGENCY_EVENT_TYPES.applicationReceived: {
      const e = event.data as ApplicationReceivedV1;
      return {
        ...base,
        status: 'received',
        noticeType: 'application_received',
        dueDate: null,
        immediate: 'application_received',
        reason: `application received ${e.receivedAt}`,
      };
    }
    default:
      throw new Error(`unknown agency event type ${event.type}`);
  }
}

export interface PlannedNotice {
  id: string;
  tenantId: string;
  kind: SubjectKind;
  ref: string;
  subjectId: string;
  noticeType: NoticeType;
  /** The offset (`P6W`) of a reminder, `now` for an immediate notice. */
  slot: string;
  dueDate: string | null;
  /** When the policy wanted it (or now, for a catch-up or an immediate notice). */
  plannedAt: number;
  /** plannedAt moved out of quiet hours: when the sweep may send it. */
  dueAt: number;
  /** Not sent by then → expired_before_sending (the date passed, or the next reminder took over). */
  deadlineAt: number;
  catchUp: boolean;
}

/**
 * One id per (subject, notice type, slot, date), a name-based id in the platform's namespace
 * (`uuidV5` of @wa/conversation), so it is also the gateway request id and the Cloud API callback
 * data: republishing an event yields the same ids (so
 * nothing changes), a changed date yields new ones (the old are cancelled), and a date changed
 * back finds its old notices again (a reminder already sent is not sent twice).
 */
export function noticeId(
  tenantId: string,
  kind: SubjectKind,
  ref: string,
  noticeType: NoticeType,
  slot: string,
  dueDate: string | null,
): string {
  return uuidV5(JSON.stringify([tenantId, kind, ref, noticeType, slot, slot === 'now' ? null : dueDate]));
}

const HOUR = 3_600_000;

/**
 * The notices that should exist for `subject` at `now`:
 * - reminders at the policy's offsets before the date, at the policy's local send time, moved out
 *   of quiet hours, in the citizen's zone (else the tenant's);
 * - reminders whose time has passed collapse into one catch-up sent now (the nearest one's slot),
 *   so a late event gets one reminder, never a burst; a date already past gets none;
 * - each reminder expires when the next one is planned (or at the end of the date);
 * - an immediate notice (receipt, documents ready) is due now and expires after expireAfterHours.
 */
export function planNotices(subject: Subject, policy: EffectivePolicy, now: number): PlannedNotice[] {
  const zone = subject.timeZone ?? policy.timeZone;
  const out: PlannedNotice[] = [];
  const make = (noticeType: NoticeType, slot: string, plannedAt: number, deadlineAt: number, catchUp: boolean): PlannedNotice => ({
    id: noticeId(subject.tenantId, subject.kind, subject.ref, noticeType, slot, subject.dueDate),
    tenantId: subject.tenantId,
    kind: subject.kind,
    ref: subject.ref,
    subjectId: subject.subjectId,
    noticeType,
    slot,
    dueDate: slot === 'now' ? null : subject.dueDate,
    plannedAt,
    dueAt: nextAllowed(plannedAt, policy.quietHours, zone),
    deadlineAt,
    catchUp,
  });

  if (subject.immediate && policy.notices[subject.immediate].enabled) {
    const np = policy.notices[subject.immediate];
    out.push(make(subject.immediate, 'now', now, now + np.expireAfterHours * HOUR, false));
  }

  const np = policy.notices[subject.noticeType];
  if (subject.status !== 'active' || !subject.dueDate || !np.enabled || np.offsets.length === 0) return out;
  const endOfDate = zonedInstant(addDays(subject.dueDate, 1), '00:00', zone);
  if (now >= endOfDate) return out;

  const byTime = new Map<number, { slot: string; plannedAt: number }>();
  for (const slot of np.offsets) {
    const plannedAt = zonedInstant(dateBefore(subject.dueDate, slot), np.sendTime, zone);
    // Two offsets landing on the same instant are one reminder; keep the first listed.
    if (plannedAt < endOfDate && !byTime.has(plannedAt)) byTime.set(plannedAt, { slot, plannedAt });
  }
  const reminders = [...byTime.values()].sort((a, b) => a.plannedAt - b.plannedAt);
  const missed = reminders.filter((r) => r.plannedAt < now);
  const future = reminders.filter((r) => r.plannedAt >= now);
  const timeline: { slot: string; plannedAt: number; catchUp: boolean }[] = [];
  if (missed.length) timeline.push({ slot: missed[missed.length - 1].slot, plannedAt: now, catchUp: true });
  for (const r of future) timeline.push({ ...r, catchUp: false });
  timeline.forEach((r, i) => {
    const deadline = i + 1 < timeline.length ? timeline[i + 1].plannedAt : endOfDate;
    out.push(make(subject.noticeType, r.slot, r.plannedAt, deadline, r.catchUp));
  });
  return out;
}
