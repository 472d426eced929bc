import type { DataSource, EntityManager } from 'typeorm';
import type { MediaContent, OutboundRequestV1, TemplateCatalogEntryV1 } from '@wa/contracts';
import type { Outbox } from '@wa/kafka';
import { counter } from '@wa/observability';
import { buildMessagePayload } from '../cloud-api/payload';
import { rows as sql } from '../db';
import type { GatewayEnv } from '../config/env';
import type { Sender } from '../tenancy/tenant-directory';
import { addResult } from './results';
import { decide, type ConsentRecord, type Decision } from './rules';

/** One message the dispatcher will send now, under a token of the number's budget. */
export interface ClaimedSend {
  requestId: string;
  tenantId: string;
  phoneNumberId: string;
  /** The attempt number this send is (guards every later update: a stale completion changes nothing). */
  attempt: number;
  lane: string;
  kind: string;
  request: OutboundRequestV1;
  trace: Record<string, string> | null;
  payload: Record<string, unknown>;
  /** An agency file to resolve to a Meta media id right before the call. */
  assetId?: string;
  sentTemplate?: string;
  usedFallback: boolean;
  probe: boolean;
  transientRetries: number;
  throughputRetries: number;
  pairRetries: number;
  windowRetries: number;
}

export interface ClaimResult {
  /** Rows that were due and eligible (claimed, failed or deferred). */
  candidates: number;
  /** Claimed for this replica (state `claimed`), in priority order; not yet budgeted or sent. */
  sends: ClaimedSend[];
}

export interface CommitResult {
  /** The sends that got a token and are now `sending`. */
  go: ClaimedSend[];
  /** Tokens granted (may exceed go.length if a row was taken away meanwhile). */
  granted: number;
  /** The slot the tokens belong to. */
  slot: number;
  /** When the tokens' slot starts and ends, ms from now (DB clock). */
  startsInMs: number;
  endsInMs: number;
}

/** How long a claimed, not yet sent, message stays this replica's before others may take it back. */
export const CLAIM_LEASE_MS = 60000;

interface CandidateRow {
  request_id: string;
  tenant_id: string;
  phone_number_id: string;
  /** The citizen key: window and consent rows are looked up by it. */
  recipient: string;
  lane: string;
  kind: string;
  priority: number;
  request: OutboundRequestV1;
  created_at: Date;
  attempts: number;
  transient_retries: number;
  throughput_retries: number;
  pair_retries: number;
  window_retries: number;
  force_fallback: boolean;
  trace: Record<string, string> | null;
}

const decisions = counter('gateway_rule_decisions_total', 'Rule decisions at dispatch time', ['decision', 'reason']);

/**
 * Due messages of one number, in priority then arrival order, skipping citizens who must wait:
 * - head of line: only a citizen's oldest open message may go (order per citizen is kept, and a
 *   message waiting for its retry holds back the ones behind it);
 * - pair pacing: the citizen's GCRA arrival time must have come (burst tolerance = (burst-1)·interval).
 * Mark-as-read skips both: it is not a message and should not wait behind one.
 * SKIP LOCKED lets replicas claim side by side without taking the same row.
 */
const CLAIM_SQL = `
  SELECT m.request_id, m.tenant_id, m.phone_number_id, m.recipient, m.lane, m.kind, m.priority, m.request, m.created_at,
         m.attempts, m.transient_retries, m.throughput_retries, m.pair_retries, m.window_retries, m.force_fallback, m.trace
  FROM gateway.outbound_message m
  LEFT JOIN gateway.pair_pacing p ON p.lane = m.lane
  WHERE m.phone_number_id = $1 AND m.state = 'queued' AND m.due_at <= now() AND m.priority <= $2
    AND (m.kind = 'mark_read' OR (
      (p.tat IS NULL OR p.tat <= now() + make_interval(secs => $3::float8))
      AND NOT EXISTS (
        SELECT 1 FROM gateway.outbound_message e
        WHERE e.lane = m.lane AND e.seq < m.seq AND e.state IN ('queued', 'claimed', 'sending', 'uncertain') AND e.kind <> 'mark_read')))
  ORDER BY m.priority, m.seq
  LIMIT $4
  FOR UPDATE OF m SKIP LOCKED`;

/**
 * The per-number budget shared by every replica, and the step from `claimed` to `sending`, in one
 * statement. Time is cut into slots (DB clock, so replicas agree); slot s may carry
 * floor((s+1)·r) − floor(s·r) messages (r = budget per slot), which averages exactly to the rate.
 * $5 names the slot (the ticker runs just before each slot starts; NULL = the next one); a slot
 * already past is never reserved: the statement then takes the current one, where a late call gets
 * at most its share of the time left, so a slot's messages are never squeezed into its last
 * milliseconds. The granted number of rows, in the given (priority)
 * order, become `sending` with their attempt counted — before any call is made, so a crash after
 * this point leaves them uncertain, never silently lost or silently doubled.
 */
const COMMIT_SQL = `
  WITH c AS (
    SELECT s, ms, (floor((s + 1) * $2::float8) - floor(s * $2::float8))::int AS cap,
           (s * $3::bigint - ms)::int AS starts_in, ((s + 1) * $3::bigint - ms)::int AS ends_in
    FROM (SELECT GREATEST(COALESCE($5::bigint, ms / $3::bigint + 1), ms / $3::bigint) AS s, ms
          FROM (SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms) t) u
  ), g AS (
    SELECT s, cap, starts_in, ends_in,
           GREATEST(0, LEAST($4::int, cap, ceil(cap * LEAST(ends_in, $3::int)::float8 / $3::float8)::int)) AS allowed FROM c
  ), r AS (
    INSERT INTO gateway.rate_slot AS r (phone_number_id, slot, used, last_grant)
    SELECT $1, s, allowed, allowed FROM g
    ON CONFLICT (phone_number_id, slot) DO UPDATE
      SET used = r.used + GREATEST(0, LEAST(EXCLUDED.last_grant, (SELECT cap FROM g) - r.used)),
          last_grant = GREATEST(0, LEAST(EXCLUDED.last_grant, (SELECT cap FROM g) - r.used))
    RETURNING last_grant
  ), picked AS (
    SELECT id, attempt FROM unnest($6::uuid[], $7::int[]) WITH ORDINALITY AS x(id, attempt, ord)
    ORDER BY ord LIMIT (SELECT last_grant FROM r)
  ), sending AS (
    UPDATE gateway.outbound_message m
    SET state = 'sending', attempts = p.attempt, lease_until = now() + make_interval(secs => $9::float8 / 1000),
        first_sent_at = COALESCE(m.first_sent_at, now()), updated_at = now()
    FROM picked p
    WHERE m.request_id = p.id AND m.state = 'claimed' AND m.claimed_by = $8 AND m.attempts = p.attempt - 1
    RETURNING m.request_id
  )
  SELECT (SELECT array_agg(request_id) FROM sending) AS ids, (SELECT last_grant FROM r) AS granted,
         (SELECT s FROM g) AS slot, (SELECT starts_in FROM g) AS starts_in, (SELECT ends_in FROM g) AS ends_in`;

export class Claimer {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly env: GatewayEnv,
    private readonly replicaId: string,
  ) {}

  /** The number's budget per second: its tier less the headroom share and the fixed reserve. */
  rate(sender: Sender): number {
    return Math.max(1, sender.phone.throughputPerSecond * this.env.RATE_HEADROOM - this.env.RATE_RESERVE_PER_SECOND);
  }

  /** Budget per slot for a number. */
  slotRate(sender: Sender): number {
    return (this.rate(sender) * this.env.RATE_SLOT_MS) / 1000;
  }

  /**
   * Claims up to `want` due messages for this replica: rules applied (failures and deferrals are
   * written here), the sendable ones marked `claimed`. Tokens come later, slot by slot (commit).
   */
  async claim(sender: Sender, want: number, priorityCap: number, probe: boolean): Promise<ClaimResult> {
    const tolerance = ((this.env.PAIR_BURST - 1) * this.env.PAIR_INTERVAL_MS) / 1000;
    return this.dataSource.transaction(async (manager) => {
      const rows: CandidateRow[] = await manager.query(CLAIM_SQL, [sender.phone.id, priorityCap, tolerance, want]);
      if (rows.length === 0) return { candidates: 0, sends: [] };
      const decided = await this.decideAll(manager, sender, rows);

      for (const { row, decision } of decided) {
        if (decision.do !== 'fail') continue;
        decisions.inc({ decision: 'fail', reason: decision.reason });
        await manager.query(
          `UPDATE gateway.outbound_message SET state = 'failed', reason = $2, detail = $3, decided_at = now(), updated_at = now()
           WHERE request_id = $1`,
          [row.request_id, decision.reason, decision.detail],
        );
        await addResult(this.outbox, manager, row, { outcome: 'failed', reason: decision.reason, detail: decision.detail });
      }
      for (const { row, decision } of decided) {
        if (decision.do !== 'defer') continue;
        decisions.inc({ decision: 'defer', reason: '' });
        await manager.query(
          `UPDATE gateway.outbound_message SET due_at = now() + make_interval(secs => $2::float8 / 1000), updated_at = now() WHERE request_id = $1`,
          [row.request_id, decision.ms],
        );
      }
      const sendable = decided.filter((d) => d.decision.do === 'send');
      if (sendable.length) {
        await manager.query(
          `UPDATE gateway.outbound_message
           SET state = 'claimed', claimed_by = $2, lease_until = now() + make_interval(secs => $3::float8 / 1000), updated_at = now()
           WHERE request_id = ANY($1::uuid[])`,
          [sendable.map((d) => d.row.request_id), this.replicaId, CLAIM_LEASE_MS],
        );
      }
      return { candidates: rows.length, sends: sendable.map(({ row, decision }) => this.toSend(row, decision, probe)) };
    });
  }

  /** Takes this slot's tokens for the head of `sends` and marks exactly those `sending` (one statement). */
  async commit(sender: Sender, sends: ClaimedSend[], slot: number | null): Promise<CommitResult> {
    const [result] = (await this.dataSource.query(COMMIT_SQL, [
      sender.phone.id,
      this.slotRate(sender),
      this.env.RATE_SLOT_MS,
      sends.length,
      slot,
      sends.map((s) => s.requestId),
      sends.map((s) => s.attempt),
      this.replicaId,
      this.env.SEND_TIMEOUT_MS + this.env.RATE_SLOT_MS * 2 + 5000,
    ])) as { ids: string[] | null; granted: number; slot: string; starts_in: number; ends_in: number }[];
    const ids = new Set(result.ids ?? []);
    return {
      go: sends.filter((s) => ids.has(s.requestId)),
      granted: result.granted,
      slot: Number(result.slot),
      startsInMs: result.starts_in,
      endsInMs: result.ends_in,
    };
  }

  /**
   * Sends whose slot ended before they went out: back to `claimed` (still this replica's, attempt
   * not counted) for a later slot. Returns the ones handed back.
   */
  async unsend(sends: ClaimedSend[]): Promise<ClaimedSend[]> {
    if (!sends.length) return [];
    const back = await sql<{ request_id: string }>(
      this.dataSource,
      `UPDATE gateway.outbound_message m
       SET state = 'claimed', attempts = m.attempts - 1, lease_until = now() + make_interval(secs => $3::float8 / 1000), updated_at = now()
       FROM unnest($1::uuid[], $2::int[]) AS v(request_id, attempt)
       WHERE m.request_id = v.request_id AND m.attempts = v.attempt AND m.state = 'sending' AND m.claimed_by = $4
       RETURNING m.request_id`,
      [sends.map((s) => s.requestId), sends.map((s) => s.attempt), CLAIM_LEASE_MS, this.replicaId],
    );
    const ids = new Set(back.map((r) => r.request_id));
    return sends.filter((s) => ids.has(s.requestId));
  }

  /** Claimed messages this replica will not send after all (hold, shutdown): back to the queue. */
  async release(sends: ClaimedSend[]): Promise<void> {
    if (!sends.length) return;
    await this.dataSource.query(
      `UPDATE gateway.outbound_message SET state = 'queued', claimed_by = NULL, lease_until = NULL, updated_at = now()
       WHERE request_id = ANY($1::uuid[]) AND state = 'claimed' AND claimed_by = $2`,
      [sends.map((s) => s.requestId), this.replicaId],
    );
  }

  private toSend(row: CandidateRow, decision: Decision, probe: boolean): ClaimedSend {
    if (decision.do !== 'send') throw new Error('not a send');
    const content = row.request.content as MediaContent | undefined;
    const assetId = !decision.template && content?.assetId ? content.assetId : undefined;
    return {
      requestId: row.request_id,
      tenantId: row.tenant_id,
      phoneNumberId: row.phone_number_id,
      attempt: row.attempts + 1,
      lane: row.lane,
      kind: row.kind,
      request: row.request,
      trace: row.trace,
      payload: buildMessagePayload(row.request, { template: decision.template }),
      assetId,
      sentTemplate: decision.sentTemplate,
      usedFallback: decision.usedFallback,
      probe,
      transientRetries: row.transient_retries,
      throughputRetries: row.throughput_retries,
      pairRetries: row.pair_retries,
      windowRetries: row.window_retries,
    };
  }

  /** Loads the window, consent and catalog facts for the whole batch in three queries, then decides each row. */
  private async decideAll(manager: EntityManager, sender: Sender, rows: CandidateRow[]) {
    const tenantId = sender.tenant.id;
    const recipients = [...new Set(rows.map((r) => r.recipient))];
    // Templates need it too: a reply template inside the window is not business-initiated (consent).
    const needsWindow = rows.some((r) => r.kind !== 'mark_read');
    const templates = rows.flatMap((r) => [r.request.template, r.request.fallbackTemplate].filter((t) => t !== undefined));

    // Window, consent and catalog facts for the whole batch in one round trip.
    const [facts] = (await manager.query(
      `SELECT
         CASE WHEN $4 THEN (SELECT json_agg(json_build_object('citizen', citizen_key, 'last', last)) FROM (
           SELECT citizen_key, max(last_inbound_at) AS last FROM gateway.contact_window
           WHERE tenant_id = $1 AND citizen_key = ANY($2::text[]) AND phone_number_id IN ($3, '') GROUP BY citizen_key) w) END AS windows,
         CASE WHEN $5 THEN (SELECT json_agg(json_build_object('citizen', citizen_key, 'category', category, 'state', state, 'occurred_at', occurred_at))
           FROM gateway.consent WHERE tenant_id = $1 AND citizen_key = ANY($2::text[])) END AS consent,
         CASE WHEN $5 THEN (SELECT json_agg(entry) FROM gateway.template_catalog
           WHERE tenant_id = $1 AND (name, language) IN (SELECT * FROM unnest($6::text[], $7::text[]))) END AS catalog`,
      [
        tenantId,
        recipients,
        sender.phone.id,
        needsWindow,
        templates.length > 0,
        templates.map((t) => t.name),
        templates.map((t) => t.language),
      ],
    )) as {
      windows: { citizen: string; last: string }[] | null;
      consent: { citizen: string; category: string; state: string; occurred_at: string }[] | null;
      catalog: TemplateCatalogEntryV1[] | null;
    }[];
    const windows = new Map<string, Date>();
    for (const w of facts.windows ?? []) windows.set(w.citizen, new Date(w.last));
    const consent = new Map<string, ConsentRecord[]>();
    for (const c of facts.consent ?? []) {
      const list = consent.get(c.citizen) ?? [];
      list.push({ category: c.category, state: c.state, occurredAt: new Date(c.occurred_at) });
      consent.set(c.citizen, list);
    }
    const catalog = new Map<string, TemplateCatalogEntryV1>();
    for (const entry of facts.catalog ?? []) catalog.set(`${entry.name}:${entry.language}`, entry);

    const now = new Date();
    return rows.map((row) => ({
      row,
      decision: decide({
        request: row.request,
        createdAt: new Date(row.created_at),
        now,
        lastInboundAt: windows.get(row.recipient),
        consent: consent.get(row.recipient) ?? [],
        catalog: (name, language) => catalog.get(`${name}:${language}`),
        forceFallback: row.force_fallback,
        windowGraceMs: this.env.WINDOW_GRACE_MS,
        catalogGraceMs: this.env.CATALOG_GRACE_MS,
      }),
    }));
  }
}
