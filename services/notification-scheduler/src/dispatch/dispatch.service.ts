import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  citizenKeyOf,
  type NotificationOutcome,
  type OutboundRequestV1,
  type TemplateCatalogEntryV1,
  type TemplateRef,
} from '@wa/contracts';
import { ReplyContentError } from '@wa/conversation';
import { Outbox, type OutboxEntry } from '@wa/kafka';
import { counter, histogram, maskPhone } from '@wa/observability';
import { SERVICE_ENV } from '@wa/service-kit';
import { Clock } from '../common/clock';
import { schedulerOutbox } from '../common/outbox-batch';
import { consentRepository } from '../consent/consent.repository';
import type { SchedulerEnv } from '../config/env';
import { outcomeItem, reportOutcomes, type NoticeRow } from '../outcome/outcomes';
import { addDays, isAllowed, localDate, nextAllowed, zonedInstant } from '../planning/zoned-time';
import type { EffectivePolicy } from '../policy/policy.model';
import { PolicyService } from '../policy/policy.service';
import { preferenceRepository } from '../preferences/preference.repository';
import { noticeClient } from './notice-client';
import { chooseTranslation, composeParameters, languageChain, templateValues } from './compose';

interface DueRow extends NoticeRow {
  due_at: Date;
  deadline_at: Date;
  /** The number the agency gave (what the request's `to` carries). */
  whatsapp: string;
  /** Its citizen key: consent and the per-day limit are kept by it. */
  citizen: string;
  subject_language: string | null;
  /** The language the citizen chose in the chatbot, looked up when the agency named none. */
  chosen_language?: string;
  time_zone: string | null;
  data: Record<string, unknown>;
}

type Decision =
  | { kind: 'send'; row: DueRow; request: OutboundRequestV1; day: string }
  | { kind: 'defer'; row: DueRow; dueAt: number; why: string }
  | { kind: 'outcome'; row: DueRow; outcome: NotificationOutcome; detail: string; templateName?: string; language?: string };

const dispatched = counter('scheduler_notices_dispatched_total', 'Send requests published (through the outbox)', ['tenant', 'notice_type']);
const deferred = counter('scheduler_notices_deferred_total', 'Due notices moved later (quiet hours, daily limit)', ['tenant', 'why']);
const sweepSeconds = histogram('scheduler_sweep_duration_seconds', 'One sweep transaction', []);

/** Terminal statuses a notice can get before it is sent. */
const STATUS_OF: Partial<Record<NotificationOutcome, string>> = {
  opted_out: 'opted_out',
  no_approved_template: 'no_approved_template',
  invalid_parameters: 'invalid_parameters',
  expired_before_sending: 'expired_before_sending',
};

/**
 * The due sweep. Each pass claims due notices with FOR UPDATE SKIP LOCKED (so replicas never
 * claim the same row), decides per notice (deadline, quiet hours, consent, approved translation,
 * parameters, per-day limit) and, in the same transaction, marks each and writes its send request
 * or outcome to the outbox. A crash before commit releases the rows; after commit the outbox
 * publishes. Each notice is dispatched once.
 */
@Injectable()
export class DispatchService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('Dispatch');
  private running = false;
  private lastPrune = 0;
  private timer?: NodeJS.Timeout;
  private loop?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly policies: PolicyService,
    private readonly clock: Clock,
    @Inject(SERVICE_ENV) private readonly env: SchedulerEnv,
  ) {}

  onApplicationBootstrap(): void {
    if (this.env.SCHEDULER_SWEEP_ENABLED) this.start();
  }

  // Before the platform closes the pool: finish the sweep in flight, start no other.
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = async () => {
      if (!this.running) return;
      let claimed = 0;
      try {
        claimed = await this.sweepOnce();
        if (Date.now() - this.lastPrune > 3_600_000) {
          this.lastPrune = Date.now();
          await this.pruneDailyCounts();
        }
      } catch (error) {
        this.log.error({ err: (error as Error).message }, 'sweep failed; will retry');
      }
      if (this.running) {
        this.timer = setTimeout(
          () => (this.loop = tick()),
          claimed >= this.env.SCHEDULER_SWEEP_BATCH ? 0 : this.env.SCHEDULER_SWEEP_INTERVAL_MS,
        );
      }
    };
    this.loop = tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.loop;
  }

  /** Daily counters only matter for today (in some zone): keep three days, drop the rest. */
  async pruneDailyCounts(): Promise<void> {
    const cutoff = new Date(this.clock.now().getTime() - 3 * 86_400_000).toISOString().slice(0, 10);
    await this.dataSource.query('DELETE FROM scheduler.daily_send WHERE day < $1::date', [cutoff]);
  }

  /** One pass: returns how many due notices it claimed. */
  async sweepOnce(limit = this.env.SCHEDULER_SWEEP_BATCH): Promise<number> {
    const end = sweepSeconds.startTimer();
    try {
      return await this.dataSource.transaction(async (m) => {
        const now = this.clock.now();
        // Claim first (notice table only: an in-order scan of the partial due index), then join.
        // As one join, the planner misjudges the 3-column join and hash-joins the whole subject
        // table on every sweep (seconds per pass at a million subjects).
        const rows: DueRow[] = await m.query(
          `WITH due AS (
             SELECT id FROM scheduler.notice
             WHERE status = 'planned' AND due_at <= $1
             ORDER BY due_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED
           )
           SELECT n.id, n.tenant_id, n.kind, n.ref, n.subject_id, n.notice_type, n.slot, n.source_event_id, n.template_name, n.language,
                  n.wamid, n.status, n.due_at, n.deadline_at, s.whatsapp, s.language AS subject_language, s.time_zone, s.data
           FROM due
           JOIN scheduler.notice n ON n.id = due.id
           JOIN scheduler.subject s ON s.tenant_id = n.tenant_id AND s.kind = n.kind AND s.ref = n.ref
           ORDER BY n.due_at`,
          [now, limit],
        );
        if (rows.length === 0) return 0;
        for (const row of rows) row.citizen = citizenKeyOf({ phone: row.whatsapp }) ?? row.whatsapp;
        const decisions = await this.decide(m, rows, now.getTime());
        await this.apply(m, decisions, now);
        return rows.length;
      });
    } finally {
      end();
    }
  }

  private async decide(m: EntityManager, rows: DueRow[], now: number): Promise<Decision[]> {
    const policies = await this.policies.effectiveMany(rows.map((r) => r.tenant_id));
    const optedOut = await this.optOuts(m, rows);
    await this.chosenLanguages(m, rows);
    const catalog = await this.catalog(m, rows, policies);
    const decisions: Decision[] = [];
    for (const row of rows) {
      const policy = policies.get(row.tenant_id);
      if (!policy) {
        decisions.push({ kind: 'outcome', row, outcome: 'failed', detail: `tenant ${row.tenant_id} is no longer configured` });
        continue;
      }
      decisions.push(this.decideOne(row, policy, optedOut, catalog, now));
    }
    return this.applyDailyLimit(m, decisions, policies, now);
  }

  private decideOne(
    row: DueRow,
    policy: EffectivePolicy,
    optedOut: Map<string, Set<string>>,
    catalog: Map<string, TemplateCatalogEntryV1>,
    now: number,
  ): Decision {
    const zone = row.time_zone ?? policy.timeZone;
    const deadline = row.deadline_at.getTime();
    if (now >= deadline) {
      return { kind: 'outcome', row, outcome: 'expired_before_sending', detail: `not sent before ${row.deadline_at.toISOString()}` };
    }
    if (!isAllowed(now, policy.quietHours, zone)) {
      // Due, but the sweep ran late into quiet hours (e.g. after an outage).
      return this.deferOrExpire(row, nextAllowed(now, policy.quietHours, zone), 'quiet-hours');
    }
    const categories = optedOut.get(`${row.tenant_id}|${row.citizen}`);
    if (categories?.has('utility') || categories?.has('all')) {
      return { kind: 'outcome', row, outcome: 'opted_out', detail: 'the citizen opted out of these messages' };
    }
    const np = policy.notices[row.notice_type];
    const chain = languageChain(row.subject_language ?? row.chosen_language ?? null, policy);
    const chosen = chooseTranslation(chain, (language) => catalog.get(`${row.tenant_id}|${np.template}|${language}`));
    if (!('language' in chosen)) {
      return {
        kind: 'outcome',
        row,
        outcome: 'no_approved_template',
        detail: `${np.template}: ${chosen.tried}`,
        templateName: np.template,
      };
    }
    const entry = catalog.get(`${row.tenant_id}|${np.template}|${chosen.language}`)!;
    if (entry.category === 'MARKETING' && categories?.has('marketing')) {
      return { kind: 'outcome', row, outcome: 'opted_out', detail: 'the citizen opted out of marketing messages' };
    }
    const values = templateValues(row.data, row.notice_type, chosen.language, now, zone, np.parameterMap);
    const composed = composeParameters(entry, values, (row.data.buttons as Record<string, string> | undefined) ?? {});
    if (!composed.ok) {
      return {
        kind: 'outcome',
        row,
        outcome: 'invalid_parameters',
        detail: composed.detail,
        templateName: np.template,
        language: chosen.language,
      };
    }
    const template: TemplateRef = { name: np.template, language: chosen.language, parameters: composed.parameters };
    if (Object.keys(composed.buttonParameters).length) template.buttonParameters = composed.buttonParameters;
    let request: OutboundRequestV1;
    try {
      request = noticeClient.buildNotice({
        tenantId: row.tenant_id,
        // The notice id: the gateway sends it once, and Meta's callback data names the notice.
        requestId: row.id,
        to: { phone: row.whatsapp },
        template,
        priority: 'notification',
        callbackData: row.id,
        // A reminder that would arrive after its date (or after the next reminder) is worse than none.
        expiresAt: row.deadline_at.toISOString(),
      });
    } catch (error) {
      // Never expected (the subject's number and the template were checked): fail this notice, not the sweep.
      if (!(error instanceof ReplyContentError)) throw error;
      return { kind: 'outcome', row, outcome: 'failed', detail: error.message, templateName: np.template, language: chosen.language };
    }
    return { kind: 'send', row, request, day: localDate(now, zone) };
  }

  private deferOrExpire(row: DueRow, dueAt: number, why: string): Decision {
    if (dueAt >= row.deadline_at.getTime()) {
      return {
        kind: 'outcome',
        row,
        outcome: 'expired_before_sending',
        detail: `${why}: the next chance (${new Date(dueAt).toISOString()}) is past the deadline`,
      };
    }
    return { kind: 'defer', row, dueAt, why };
  }

  /**
   * At most dailyLimitPerCitizen notices per citizen and local day. The counter rows are locked by
   * the upsert until commit, so two replicas sweeping notices of one citizen count correctly; groups
   * are upserted in key order so those locks are always taken in the same order (no deadlock).
   */
  private async applyDailyLimit(
    m: EntityManager,
    decisions: Decision[],
    policies: Map<string, EffectivePolicy>,
    now: number,
  ): Promise<Decision[]> {
    const groups = new Map<string, { tenantId: string; citizen: string; day: string; items: number[] }>();
    decisions.forEach((d, i) => {
      if (d.kind !== 'send') return;
      const key = `${d.row.tenant_id}|${d.row.citizen}|${d.day}`;
      const g = groups.get(key) ?? { tenantId: d.row.tenant_id, citizen: d.row.citizen, day: d.day, items: [] };
      g.items.push(i);
      groups.set(key, g);
    });
    if (groups.size === 0) return decisions;
    const list = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
    const counts: { tenant_id: string; citizen_key: string; day: string; sent: number }[] = await m.query(
      `INSERT INTO scheduler.daily_send (tenant_id, citizen_key, day, sent)
       SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::int[])
       ON CONFLICT (tenant_id, citizen_key, day) DO UPDATE SET sent = daily_send.sent + EXCLUDED.sent
       RETURNING tenant_id, citizen_key, day::text AS day, sent`,
      [list.map((g) => g.tenantId), list.map((g) => g.citizen), list.map((g) => g.day), list.map((g) => g.items.length)],
    );
    const corrections: { tenantId: string; citizen: string; day: string; excess: number }[] = [];
    for (const c of counts) {
      const g = groups.get(`${c.tenant_id}|${c.citizen_key}|${c.day}`)!;
      const policy = policies.get(g.tenantId)!;
      const before = c.sent - g.items.length;
      const allowed = Math.max(0, Math.min(g.items.length, policy.dailyLimitPerCitizen - before));
      if (allowed === g.items.length) continue;
      corrections.push({ tenantId: g.tenantId, citizen: g.citizen, day: g.day, excess: g.items.length - allowed });
      for (const i of g.items.slice(allowed)) {
        const d = decisions[i] as Extract<Decision, { kind: 'send' }>;
        const zone = d.row.time_zone ?? policy.timeZone;
        const tomorrow = zonedInstant(addDays(d.day, 1), '00:00', zone);
        decisions[i] = this.deferOrExpire(d.row, Math.max(nextAllowed(tomorrow, policy.quietHours, zone), now), 'daily-limit');
      }
    }
    if (corrections.length) {
      await m.query(
        `UPDATE scheduler.daily_send d SET sent = d.sent - c.excess
         FROM unnest($1::text[], $2::text[], $3::date[], $4::int[]) AS c(tenant_id, citizen_key, day, excess)
         WHERE d.tenant_id = c.tenant_id AND d.citizen_key = c.citizen_key AND d.day = c.day`,
        [
          corrections.map((c) => c.tenantId),
          corrections.map((c) => c.citizen),
          corrections.map((c) => c.day),
          corrections.map((c) => c.excess),
        ],
      );
    }
    return decisions;
  }

  private async apply(m: EntityManager, decisions: Decision[], now: Date): Promise<void> {
    const updates: {
      id: string;
      status: string;
      dueAt: Date | null;
      detail: string | null;
      template: string | null;
      language: string | null;
    }[] = [];
    const requests: OutboxEntry[] = [];
    const outcomes: ReturnType<typeof outcomeItem>[] = [];
    for (const d of decisions) {
      if (d.kind === 'send') {
        // ce_id = notice id: the gateway's inbox (and the outbox's unique eventId) see one request per notice.
        requests.push(noticeClient.entry(d.request, d.row.id));
        updates.push({
          id: d.row.id,
          status: 'dispatched',
          dueAt: null,
          detail: null,
          template: d.request.template!.name,
          language: d.request.template!.language,
        });
        dispatched.inc({ tenant: d.row.tenant_id, notice_type: d.row.notice_type });
      } else if (d.kind === 'defer') {
        updates.push({
          id: d.row.id,
          status: 'planned',
          dueAt: new Date(d.dueAt),
          detail: `deferred: ${d.why}`,
          template: null,
          language: null,
        });
        deferred.inc({ tenant: d.row.tenant_id, why: d.why });
      } else {
        updates.push({
          id: d.row.id,
          status: STATUS_OF[d.outcome] ?? d.outcome,
          dueAt: null,
          detail: d.detail,
          template: d.templateName ?? null,
          language: d.language ?? null,
        });
        outcomes.push(outcomeItem(d.row, d.outcome, now, { detail: d.detail, templateName: d.templateName, language: d.language }));
        this.log.log(
          { tenant: d.row.tenant_id, notice: d.row.id, to: maskPhone(d.row.whatsapp), outcome: d.outcome, detail: d.detail },
          'notice not sent',
        );
      }
    }
    await schedulerOutbox.addMany(m, requests);
    await reportOutcomes(m, outcomes);
    await m.query(
      `UPDATE scheduler.notice n SET status = u.status, due_at = COALESCE(u.due_at, n.due_at), detail = u.detail,
              template_name = COALESCE(u.template_name, n.template_name), language = COALESCE(u.language, n.language),
              dispatched_at = CASE WHEN u.status = 'dispatched' THEN $7::timestamptz ELSE n.dispatched_at END,
              outcome_at = CASE WHEN u.status NOT IN ('dispatched', 'planned') THEN $7::timestamptz ELSE n.outcome_at END,
              updated_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[]) AS u(id, status, due_at, detail, template_name, language)
       WHERE n.id = u.id`,
      [
        updates.map((u) => u.id),
        updates.map((u) => u.status),
        updates.map((u) => u.dueAt),
        updates.map((u) => u.detail),
        updates.map((u) => u.template),
        updates.map((u) => u.language),
        now,
      ],
    );
  }

  /** Citizens of these rows with an opt-out, by tenant|citizen key → categories. */
  private async optOuts(m: EntityManager, rows: DueRow[]): Promise<Map<string, Set<string>>> {
    const pairs = [...new Map(rows.map((r) => [`${r.tenant_id}|${r.citizen}`, [r.tenant_id, r.citizen] as [string, string]])).values()];
    return consentRepository.optOutsOf(m, pairs);
  }

  /** The chatbot-chosen language of the citizens whose agency event named none: one query per sweep. */
  private async chosenLanguages(m: EntityManager, rows: DueRow[]): Promise<void> {
    const without = rows.filter((r) => !r.subject_language);
    if (without.length === 0) return;
    const pairs = [...new Map(without.map((r) => [`${r.tenant_id}|${r.citizen}`, [r.tenant_id, r.citizen] as [string, string]])).values()];
    const chosen = await preferenceRepository.languagesOf(m, pairs);
    for (const r of without) r.chosen_language = chosen.get(`${r.tenant_id}|${r.citizen}`);
  }

  /** Catalog entries of the templates these rows need, by tenant|name|language. */
  private async catalog(
    m: EntityManager,
    rows: DueRow[],
    policies: Map<string, EffectivePolicy>,
  ): Promise<Map<string, TemplateCatalogEntryV1>> {
    const wanted = new Map<string, [string, string]>();
    for (const r of rows) {
      const policy = policies.get(r.tenant_id);
      if (policy)
        wanted.set(`${r.tenant_id}|${policy.notices[r.notice_type].template}`, [r.tenant_id, policy.notices[r.notice_type].template]);
    }
    const list = [...wanted.values()];
    const entries: { tenant_id: string; name: string; language: string; entry: TemplateCatalogEntryV1 }[] = await m.query(
      `SELECT c.tenant_id, c.name, c.language, c.entry FROM scheduler.template_catalog c
       JOIN unnest($1::text[], $2::text[]) AS w(tenant_id, name) ON c.tenant_id = w.tenant_id AND c.name = w.name`,
      [list.map((w) => w[0]), list.map((w) => w[1])],
    );
    return new Map(entries.map((e) => [`${e.tenant_id}|${e.name}|${e.language}`, e.entry]));
  }
}
