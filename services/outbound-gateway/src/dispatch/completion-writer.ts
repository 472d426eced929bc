import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import type { OutboundFailureReason } from '@wa/contracts';
import type { Outbox } from '@wa/kafka';
import { counter } from '@wa/observability';
import { backoffMs, classifyCloudApiError, pairBackoffMs } from '../cloud-api/error-policy';
import type { CallOutcome } from '../cloud-api/graph-client';
import type { GatewayEnv } from '../config/env';
import type { TenantDirectory } from '../tenancy/tenant-directory';
import type { ClaimedSend } from './claimer';
import { HoldBook, type HoldRow } from './holds';
import { addResult, addResults, historyEvent, type ResultSource } from './results';
import { rows as sql } from '../db';

export interface Completion {
  send: ClaimedSend;
  outcome: CallOutcome;
  /** A decision made before any call (e.g. the agency file cannot be sent as this kind). */
  fail?: { reason: OutboundFailureReason; detail: string };
}

const results = counter('gateway_results_total', 'Final outcomes of send requests', ['outcome', 'reason']);
const errorsByCode = counter('gateway_cloud_api_errors_total', 'Cloud API errors by code and the action taken', ['code', 'action']);
const duplicates = counter(
  'gateway_duplicate_sends_total',
  'Requests Meta accepted more than once (uncertain resend raced a late status)',
  [],
);

type Row = ResultSource & { lane: string; kind: string; sent_template: string | null; used_fallback: boolean };

/**
 * Records what came of each Cloud API call. Accepted sends are written in batches (one
 * transaction per flush: state, wamid, the citizen's pacing and the result events via the outbox),
 * so the database keeps up at 1,000 msg/s; the rarer error paths are handled one by one in the
 * same transaction. Every update is guarded by the attempt number, so a completion that arrives
 * after the row moved on (reaped as uncertain and resent) cannot overwrite the newer attempt.
 */
export class CompletionWriter {
  private buffer: Completion[] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly env: GatewayEnv,
    private readonly tenants: TenantDirectory,
    private readonly log: Logger,
    private readonly hooks: { throttle(phoneNumberId: string): void; held(hold: HoldRow): void },
  ) {}

  push(completion: Completion): void {
    this.buffer.push(completion);
    if (this.stopped) return;
    if (this.buffer.length >= 300) void this.flush();
    else this.schedule(10);
  }

  get pending(): number {
    return this.buffer.length;
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
  }

  /** Writes everything buffered; on a database error keeps it and tries again shortly. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = [];
    let retryIn = 0;
    this.flushing = this.write(batch)
      .then(() => {
        this.failures = 0;
      })
      .catch((error) => {
        this.failures++;
        retryIn = Math.min(5000, 100 * 2 ** this.failures);
        this.log.error({ err: (error as Error).message, pending: batch.length }, 'recording send outcomes failed; retrying');
        this.buffer = [...batch, ...this.buffer];
      })
      .finally(() => {
        this.flushing = undefined;
        if (this.buffer.length) this.schedule(retryIn);
      });
    return this.flushing;
  }

  /** Writes what is buffered (until the deadline), then stops: outcomes not written by then are settled as uncertain by the next replica. */
  async drain(deadline: number): Promise<void> {
    while ((this.buffer.length || this.flushing) && Date.now() < deadline) {
      await this.flush();
      if (this.buffer.length) await new Promise((r) => setTimeout(r, 50));
    }
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.buffer.length)
      this.log.error({ pending: this.buffer.length }, 'send outcomes not recorded at shutdown; they will be settled as uncertain');
  }

  private async write(batch: Completion[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const accepted = batch.filter((c) => c.outcome.kind === 'accepted' && !c.fail);
      if (accepted.length) await this.writeAccepted(manager, accepted);
      for (const completion of batch) {
        if (completion.outcome.kind !== 'accepted' || completion.fail) await this.writeOther(manager, completion);
      }
    });
  }

  private async writeAccepted(manager: EntityManager, accepted: Completion[]): Promise<void> {
    const rows = await sql<Row>(
      manager,
      `UPDATE gateway.outbound_message m
       SET state = 'accepted', wamid = v.wamid, message_status = v.message_status, sent_template = v.sent_template,
           used_fallback = v.used_fallback, decided_at = now(), updated_at = now(), claimed_by = NULL, lease_until = NULL,
           uncertain_since = NULL, reason = NULL, detail = NULL
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::boolean[])
            AS v(request_id, wamid, message_status, attempt, sent_template, used_fallback)
       WHERE m.request_id = v.request_id AND m.attempts = v.attempt AND m.state IN ('sending', 'uncertain', 'queued', 'claimed')
       RETURNING m.request_id, m.tenant_id, m.phone_number_id, m.request, m.attempts, m.trace, m.lane, m.kind, m.sent_template, m.used_fallback,
                 m.wamid, m.message_status`,
      [
        accepted.map((c) => c.send.requestId),
        accepted.map((c) => (c.outcome.kind === 'accepted' ? (c.outcome.wamid ?? null) : null)),
        accepted.map((c) => (c.outcome.kind === 'accepted' ? (c.outcome.messageStatus ?? null) : null)),
        accepted.map((c) => c.send.attempt),
        accepted.map((c) => c.send.sentTemplate ?? null),
        accepted.map((c) => c.send.usedFallback),
      ],
    );
    const recorded = new Set(rows.map((r) => r.request_id));
    const paced = rows.filter((r) => r.kind !== 'mark_read').map((r) => r.lane);
    if (paced.length) {
      // The next message to this citizen may go PAIR_INTERVAL after Meta accepted this one (GCRA).
      await manager.query(
        `INSERT INTO gateway.pair_pacing (lane, tat) SELECT lane, now() + make_interval(secs => $2::float8 / 1000) FROM unnest($1::text[]) AS lane
         ON CONFLICT (lane) DO UPDATE SET tat = GREATEST(pair_pacing.tat, now()) + make_interval(secs => $2::float8 / 1000)`,
        [paced, this.env.PAIR_INTERVAL_MS],
      );
    }
    results.inc({ outcome: 'accepted', reason: '' }, rows.length);
    await addResults(
      this.outbox,
      manager,
      (rows as (Row & { wamid: string | null; message_status: string | null })[]).map((row) => ({
        row,
        fields: {
          outcome: 'accepted' as const,
          ...(row.wamid ? { wamid: row.wamid } : {}),
          ...(row.message_status ? { messageStatus: row.message_status } : {}),
          ...(row.sent_template ? { sentTemplate: row.sent_template } : {}),
          ...(row.used_fallback ? { usedFallback: true } : {}),
        },
      })),
    );
    const probes = accepted.filter((c) => c.send.probe && recorded.has(c.send.requestId));
    for (const probe of probes) {
      const lifted = await HoldBook.liftExpired(manager, probe.send.tenantId, probe.send.phoneNumberId);
      if (lifted)
        this.log.warn({ tenantId: probe.send.tenantId, phoneNumberId: probe.send.phoneNumberId }, 'probe accepted: sending resumes');
    }
    // Meta accepted a request we had already recorded as accepted: an uncertain send was resent
    // and the first copy's status came too late. Keep the extra wamid for the audit trail.
    for (const c of accepted.filter((a) => !recorded.has(a.send.requestId))) {
      const wamid = c.outcome.kind === 'accepted' ? c.outcome.wamid : undefined;
      if (!wamid) continue;
      const dup = await sql(
        manager,
        `UPDATE gateway.outbound_message SET duplicate_wamids = array_append(COALESCE(duplicate_wamids, '{}'), $2),
                events = events || $3::jsonb, updated_at = now()
         WHERE request_id = $1 AND state = 'accepted' AND wamid IS DISTINCT FROM $2 AND NOT ($2 = ANY(COALESCE(duplicate_wamids, '{}')))
         RETURNING 1`,
        [c.send.requestId, wamid, historyEvent('duplicate-send', { wamid, attempt: c.send.attempt })],
      );
      if (dup.length) {
        duplicates.inc();
        this.log.warn({ requestId: c.send.requestId, attempt: c.send.attempt }, 'Meta accepted a request twice (uncertain resend)');
      }
    }
  }

  private async writeOther(manager: EntityManager, completion: Completion): Promise<void> {
    const { send, outcome } = completion;
    if (completion.fail) return this.fail(manager, send, completion.fail.reason, completion.fail.detail);
    if (outcome.kind === 'accepted') return;
    if (outcome.kind === 'uncertain') {
      if (send.kind === 'mark_read')
        return this.requeue(manager, send, 'transient_retries', this.transientDelay(send), 'retry', { detail: outcome.detail });
      // Meta may have accepted it: wait for a status webhook naming the request before resending (§4.6).
      await manager.query(
        `UPDATE gateway.outbound_message
         SET state = 'uncertain', uncertain_since = COALESCE(uncertain_since, now()), due_at = now() + make_interval(secs => $3::float8 / 1000),
             claimed_by = NULL, lease_until = NULL, events = events || $4::jsonb, updated_at = now()
         WHERE request_id = $1 AND attempts = $2 AND state = 'sending'`,
        [
          send.requestId,
          send.attempt,
          this.env.UNCERTAIN_GRACE_MS,
          historyEvent('uncertain', { attempt: send.attempt, detail: outcome.detail }),
        ],
      );
      return;
    }
    if (outcome.kind === 'not-sent') {
      if (send.transientRetries + 1 > this.env.MAX_TRANSIENT_RETRIES) return this.fail(manager, send, 'retries-exhausted', outcome.detail);
      return this.requeue(manager, send, 'transient_retries', this.transientDelay(send), 'retry', { detail: outcome.detail });
    }

    const action = classifyCloudApiError(outcome.code, outcome.httpStatus);
    errorsByCode.inc({ code: String(outcome.code ?? `http_${outcome.httpStatus}`), action: action.action });
    const error = { code: outcome.code ?? 0, title: outcome.title, message: outcome.message, details: outcome.details };
    const note = { code: outcome.code, httpStatus: outcome.httpStatus, detail: outcome.message, fbtraceId: outcome.fbtraceId };
    switch (action.action) {
      case 'transient':
        if (send.transientRetries + 1 > this.env.MAX_TRANSIENT_RETRIES)
          return this.fail(manager, send, 'retries-exhausted', describe(outcome), error);
        return this.requeue(manager, send, 'transient_retries', this.transientDelay(send), 'retry', note);
      case 'throughput':
        this.hooks.throttle(send.phoneNumberId);
        if (send.throughputRetries + 1 > this.env.MAX_THROUGHPUT_RETRIES)
          return this.fail(manager, send, 'retries-exhausted', describe(outcome), error);
        return this.requeue(
          manager,
          send,
          'throughput_retries',
          backoffMs(this.env.THROUGHPUT_BACKOFF_MS, send.throughputRetries, 60000),
          'throughput',
          note,
        );
      case 'pair': {
        if (send.pairRetries + 1 > this.env.MAX_PAIR_RETRIES)
          return this.fail(manager, send, 'retries-exhausted', describe(outcome), error);
        const delay = pairBackoffMs(this.env.PAIR_BACKOFF_UNIT_MS, send.pairRetries);
        await manager.query(
          `INSERT INTO gateway.pair_pacing (lane, tat) VALUES ($1, now() + make_interval(secs => $2::float8 / 1000))
           ON CONFLICT (lane) DO UPDATE SET tat = GREATEST(pair_pacing.tat, EXCLUDED.tat)`,
          [send.lane, delay],
        );
        return this.requeue(manager, send, 'pair_retries', delay, 'pair-limit', note);
      }
      case 'window':
        // Meta's known issue: a reply inside the window is sometimes refused once. Retry once, then the fallback.
        if (send.windowRetries === 0 && !send.usedFallback)
          return this.requeue(manager, send, 'window_retries', 2000, 'window-retry', note);
        if (send.request.fallbackTemplate && !send.usedFallback) {
          return this.requeue(manager, send, 'window_retries', 0, 'window-fallback', note, true);
        }
        return this.fail(manager, send, 'window-closed-by-meta', describe(outcome), error);
      case 'hold': {
        const tenant = this.tenants.registry.tenant(send.tenantId);
        const holdMs = action.reason === 'auth' ? this.env.AUTH_HOLD_MS : (action.holdMs ?? this.env.AUTH_HOLD_MS);
        const hold = {
          scope: action.scope,
          scopeId: action.scope === 'tenant' ? send.tenantId : send.phoneNumberId,
          reason: action.reason,
          code: outcome.code,
          holdMs,
          bulkOnly: action.bulkOnly ?? false,
          fingerprint: action.reason === 'auth' && tenant ? this.tenants.tokenFingerprint(tenant) : undefined,
          detail: describe(outcome),
        };
        await HoldBook.place(manager, hold);
        this.hooks.held({
          scope: hold.scope,
          scope_id: hold.scopeId,
          reason: hold.reason,
          code: hold.code ?? null,
          until: new Date(Date.now() + holdMs),
          bulk_only: hold.bulkOnly,
          token_fingerprint: hold.fingerprint ?? null,
          detail: hold.detail,
        });
        const log = {
          tenantId: send.tenantId,
          phoneNumberId: send.phoneNumberId,
          reason: action.reason,
          code: outcome.code,
          fbtraceId: outcome.fbtraceId,
        };
        if (action.alert)
          this.log.error(
            { ...log, alert: true },
            `ALERT: Cloud API ${action.reason} (${outcome.code}): sending stopped for this ${action.scope}`,
          );
        else this.log.warn(log, `Cloud API ${action.reason}: sending paused for this ${action.scope}`);
        return this.requeue(manager, send, null, 0, `hold:${action.reason}`, note);
      }
      case 'fail':
        return this.fail(manager, send, action.reason, describe(outcome), error);
    }
  }

  /** Claimed sends that will not be made after all (a hold came up): back to the queue, attempt not counted. */
  async release(sends: ClaimedSend[]): Promise<void> {
    if (!sends.length) return;
    await this.dataSource.query(
      `UPDATE gateway.outbound_message m
       SET state = 'queued', attempts = m.attempts - 1, claimed_by = NULL, lease_until = NULL, updated_at = now()
       FROM unnest($1::uuid[], $2::int[]) AS v(request_id, attempt)
       WHERE m.request_id = v.request_id AND m.attempts = v.attempt AND m.state = 'sending'`,
      [sends.map((s) => s.requestId), sends.map((s) => s.attempt)],
    );
  }

  private transientDelay(send: ClaimedSend): number {
    return backoffMs(this.env.RETRY_BASE_MS, send.transientRetries, this.env.RETRY_MAX_MS);
  }

  private async requeue(
    manager: EntityManager,
    send: ClaimedSend,
    counterColumn: 'transient_retries' | 'throughput_retries' | 'pair_retries' | 'window_retries' | null,
    delayMs: number,
    event: string,
    note: Record<string, unknown>,
    forceFallback = false,
  ): Promise<void> {
    const bump = counterColumn ? `, ${counterColumn} = ${counterColumn} + 1` : '';
    await manager.query(
      `UPDATE gateway.outbound_message
       SET state = 'queued', due_at = now() + make_interval(secs => $3::float8 / 1000), claimed_by = NULL, lease_until = NULL,
           force_fallback = force_fallback OR $4, events = events || $5::jsonb, updated_at = now() ${bump}
       WHERE request_id = $1 AND attempts = $2 AND state IN ('sending', 'uncertain')`,
      [send.requestId, send.attempt, delayMs, forceFallback, historyEvent(event, { attempt: send.attempt, retryInMs: delayMs, ...note })],
    );
  }

  private async fail(
    manager: EntityManager,
    send: ClaimedSend,
    reason: OutboundFailureReason,
    detail: string,
    error?: { code: number; title?: string; message?: string; details?: string },
  ): Promise<void> {
    const rows = await sql<Row>(
      manager,
      `UPDATE gateway.outbound_message
       SET state = 'failed', reason = $3, detail = $4, error = $5, decided_at = now(), claimed_by = NULL, lease_until = NULL, updated_at = now()
       WHERE request_id = $1 AND attempts = $2 AND state IN ('sending', 'uncertain')
       RETURNING request_id, tenant_id, phone_number_id, request, attempts, trace, lane, kind, sent_template, used_fallback`,
      [send.requestId, send.attempt, reason, detail.slice(0, 2000), error ? JSON.stringify(error) : null],
    );
    for (const row of rows) {
      results.inc({ outcome: 'failed', reason });
      await addResult(this.outbox, manager, row, {
        outcome: 'failed',
        reason,
        detail: detail.slice(0, 2000),
        ...(error ? { error: stripUndefined(error) } : {}),
        ...(send.sentTemplate ? { sentTemplate: send.sentTemplate } : {}),
      });
    }
  }
}

function describe(outcome: CallOutcome): string {
  if (outcome.kind !== 'error') return outcome.kind === 'accepted' ? 'accepted' : outcome.detail;
  const code = outcome.code !== undefined ? `(#${outcome.code}) ` : '';
  return `${code}${outcome.message ?? `HTTP ${outcome.httpStatus}`}${outcome.details ? `: ${outcome.details}` : ''}`;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
