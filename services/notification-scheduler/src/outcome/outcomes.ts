import type { EntityManager } from 'typeorm';
import { Topics, type NoticeType, type NotificationOutcome, type NotificationOutcomeV1 } from '@wa/contracts';
import { uuidV5 } from '@wa/conversation';
import { counter } from '@wa/observability';
import { schedulerOutbox, type OutboxItem } from '../common/outbox-batch';

/** Columns of scheduler.notice an outcome event needs. */
export interface NoticeRow {
  id: string;
  tenant_id: string;
  kind: string;
  ref: string;
  subject_id: string;
  notice_type: NoticeType;
  slot: string;
  source_event_id: string;
  template_name: string | null;
  language: string | null;
  wamid: string | null;
  status: string;
}

export const NOTICE_COLUMNS =
  'id, tenant_id, kind, ref, subject_id, notice_type, slot, source_event_id, template_name, language, wamid, status';

// By template and language too, for the agency dashboard; both are bounded by the tenant's catalog
// ('none' before a template is chosen).
const published = counter('scheduler_notice_outcomes_total', 'Outcomes reported to agencies', [
  'tenant',
  'outcome',
  'template',
  'language',
]);

/**
 * The outcome event of a notice. Its id is derived from (notice, outcome): a replayed transition
 * cannot report twice (the outbox's eventId is unique).
 */
export function outcomeItem(
  notice: NoticeRow,
  outcome: NotificationOutcome,
  occurredAt: Date,
  extra: { errorCode?: string; detail?: string; wamid?: string; templateName?: string; language?: string } = {},
): OutboxItem<NotificationOutcomeV1> {
  const event: NotificationOutcomeV1 = {
    tenantId: notice.tenant_id,
    noticeId: notice.id,
    sourceEventId: notice.source_event_id,
    subjectId: notice.subject_id,
    noticeType: notice.notice_type,
    slot: notice.slot,
    outcome,
    occurredAt: occurredAt.toISOString(),
  };
  if (notice.kind === 'document') event.documentId = notice.ref;
  else event.reference = notice.ref;
  const templateName = extra.templateName ?? notice.template_name ?? undefined;
  const language = extra.language ?? notice.language ?? undefined;
  const wamid = extra.wamid ?? notice.wamid ?? undefined;
  if (templateName) event.templateName = templateName;
  if (language) event.language = language;
  if (wamid) event.wamid = wamid;
  if (extra.errorCode) event.errorCode = extra.errorCode;
  if (extra.detail) event.detail = extra.detail.slice(0, 1000);
  return { spec: Topics.notificationOutcome, data: event, id: uuidV5(`outcome|${notice.id}|${outcome}`) };
}

/**
 * Reports outcomes to agencies through the outbox, in the caller's transaction: the same one that
 * moved the notices' status, so the report and the state never disagree.
 */
export async function reportOutcomes(m: EntityManager, items: OutboxItem<NotificationOutcomeV1>[]): Promise<void> {
  await schedulerOutbox.addMany(m, items);
  for (const item of items)
    published.inc({
      tenant: item.data.tenantId,
      outcome: item.data.outcome,
      template: item.data.templateName ?? 'none',
      language: item.data.language ?? 'none',
    });
}
