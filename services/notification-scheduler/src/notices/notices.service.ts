import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NOTIFICATION_OUTCOMES, type NoticeType, type TemplateCatalogEntryV1 } from '@wa/contracts';
import { maskPhone } from '@wa/observability';
import { previewTemplate } from '@wa/templates';
import { Clock } from '../common/clock';
import { chooseTranslation, composeParameters, languageChain, templateValues } from '../dispatch/compose';
import { isoInZone } from '../planning/zoned-time';
import { PolicyService } from '../policy/policy.service';

/** A notice's own states before it is sent, then the outcomes agencies are told (minus `scheduled`, which is `planned` here). */
export const NOTICE_STATUSES = ['planned', 'dispatched', ...NOTIFICATION_OUTCOMES.filter((outcome) => outcome !== 'scheduled')];

export interface NoticeView {
  id: string;
  noticeType: NoticeType;
  /** `P6W` (6 weeks before), `P1W`, ... or `now` for immediate notices. */
  slot: string;
  catchUp: boolean;
  status: string;
  subjectId: string;
  documentId?: string;
  reference?: string;
  /** Masked: the API shows which number, not the number. */
  to: string;
  timeZone: string;
  /** When the sweep may send it (UTC), and the same on the citizen's wall clock. */
  dueAt: string;
  dueAtLocal: string;
  deadlineAt: string;
  plannedAt: string;
  template?: { name: string; language?: string };
  detail?: string;
  errorCode?: string;
  wamid?: string;
  sourceEventId: string;
  dispatchedAt?: string;
  outcomeAt?: string;
  /** Pending notices (with ?preview=true, or by id): what would be sent now, or why it could not. */
  preview?: { template: string; language: string; text: { header?: string; body: string; footer?: string } } | { problem: string };
}

interface Row {
  id: string;
  tenant_id: string;
  kind: string;
  ref: string;
  subject_id: string;
  notice_type: NoticeType;
  slot: string;
  catch_up: boolean;
  status: string;
  planned_at: Date;
  due_at: Date;
  deadline_at: Date;
  detail: string | null;
  error_code: string | null;
  template_name: string | null;
  language: string | null;
  wamid: string | null;
  source_event_id: string;
  dispatched_at: Date | null;
  outcome_at: Date | null;
  whatsapp: string;
  subject_language: string | null;
  time_zone: string | null;
  data: Record<string, unknown>;
}

const SELECT = `SELECT n.*, s.whatsapp, s.language AS subject_language, s.time_zone, s.data
  FROM scheduler.subject s JOIN scheduler.notice n ON n.tenant_id = s.tenant_id AND n.kind = s.kind AND n.ref = s.ref`;

@Injectable()
export class NoticesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policies: PolicyService,
    private readonly clock: Clock,
  ) {}

  async list(
    tenantId: string,
    q: { subjectId?: string; documentId?: string; reference?: string; status?: string; preview?: boolean; limit?: number },
  ): Promise<NoticeView[]> {
    const params: unknown[] = [tenantId];
    let where = 's.tenant_id = $1';
    if (q.subjectId !== undefined) {
      params.push(q.subjectId);
      where += ` AND s.subject_id = $${params.length}`;
    } else if (q.documentId !== undefined) {
      params.push(q.documentId);
      where += ` AND s.kind = 'document' AND s.ref = $${params.length}`;
    } else {
      params.push(q.reference);
      where += ` AND s.kind IN ('payment', 'collection', 'application') AND s.ref = $${params.length}`;
    }
    if (q.status) {
      params.push(q.status);
      where += ` AND n.status = $${params.length}`;
    }
    params.push(q.limit ?? 100);
    const rows: Row[] = await this.dataSource.query(`${SELECT} WHERE ${where} ORDER BY n.due_at, n.id LIMIT $${params.length}`, params);
    return Promise.all(rows.map((r) => this.view(r, q.preview === true)));
  }

  async get(tenantId: string, id: string): Promise<NoticeView | undefined> {
    const rows: Row[] = await this.dataSource.query(`${SELECT} WHERE n.tenant_id = $1 AND n.id = $2`, [tenantId, id]);
    return rows[0] ? this.view(rows[0], true) : undefined;
  }

  private async view(r: Row, preview: boolean): Promise<NoticeView> {
    const policy = await this.policies.effective(r.tenant_id);
    const zone = r.time_zone ?? policy?.timeZone ?? 'UTC';
    const view: NoticeView = {
      id: r.id,
      noticeType: r.notice_type,
      slot: r.slot,
      catchUp: r.catch_up,
      status: r.status,
      subjectId: r.subject_id,
      to: maskPhone(r.whatsapp),
      timeZone: zone,
      dueAt: r.due_at.toISOString(),
      dueAtLocal: isoInZone(r.due_at.getTime(), zone),
      deadlineAt: r.deadline_at.toISOString(),
      plannedAt: r.planned_at.toISOString(),
      sourceEventId: r.source_event_id,
    };
    if (r.kind === 'document') view.documentId = r.ref;
    else view.reference = r.ref;
    const templateName = r.template_name ?? policy?.notices[r.notice_type].template;
    if (templateName) view.template = { name: templateName, ...(r.language ? { language: r.language } : {}) };
    if (r.detail) view.detail = r.detail;
    if (r.error_code) view.errorCode = r.error_code;
    if (r.wamid) view.wamid = r.wamid;
    if (r.dispatched_at) view.dispatchedAt = r.dispatched_at.toISOString();
    if (r.outcome_at) view.outcomeAt = r.outcome_at.toISOString();
    if (preview && r.status === 'planned' && policy) view.preview = await this.preview(r, policy, zone);
    return view;
  }

  /** The same choices the sweep would make now (language chain, approved translation, values). */
  private async preview(
    r: Row,
    policy: NonNullable<Awaited<ReturnType<PolicyService['effective']>>>,
    zone: string,
  ): Promise<NoticeView['preview']> {
    const np = policy.notices[r.notice_type];
    const entries: { language: string; entry: TemplateCatalogEntryV1 }[] = await this.dataSource.query(
      'SELECT language, entry FROM scheduler.template_catalog WHERE tenant_id = $1 AND name = $2',
      [r.tenant_id, np.template],
    );
    const byLanguage = new Map(entries.map((e) => [e.language, e.entry]));
    const chosen = chooseTranslation(languageChain(r.subject_language, policy), (l) => byLanguage.get(l));
    if (!('language' in chosen)) return { problem: `no approved translation of ${np.template} (${chosen.tried})` };
    const entry = byLanguage.get(chosen.language)!;
    const values = templateValues(r.data, r.notice_type, chosen.language, this.clock.now().getTime(), zone, np.parameterMap);
    const composed = composeParameters(entry, values, (r.data.buttons as Record<string, string> | undefined) ?? {});
    if (!composed.ok) return { problem: composed.detail };
    const text = previewTemplate(entry, { parameters: composed.parameters, buttonParameters: composed.buttonParameters });
    return { template: np.template, language: chosen.language, text: { header: text.header?.text, body: text.body, footer: text.footer } };
  }
}
