import type { DataSource, EntityManager } from 'typeorm';
import type { MediaContent, OutboundRequestV1, TemplateCatalogEntryV1 } from '@wa/contracts';
import type { Outbox } from '@wa/kafka';
import { counter } from '@wa/observability';
import { buildMessagePayload } from '../cloud-api/payload';
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
  /** Rows that were due and eligible (sent, failed or deferred). */
  candidates: number;
  sends: ClaimedSend[];
  /** Sendable rows that got no token (the slot was used up, possibly by another replica). */
  starved: number;
  /** When the tokens' slot starts and ends, ms from now (DB clock), when tokens were asked for. */
  slot?: { startsInMs: number; endsInMs: number };
}

interface CandidateRow {
  request_id: string;
  tenant_id: string;
  phone_number_id: string;
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
        WHERE e.lane = m.lane AND e.seq < m.seq AND e.state IN ('queued', 'sending', 'uncertain') AND e.kind <> 'mark_read')))
  ORDER BY m.priority, m.seq
  LIMIT $4
  FOR UPDATE OF m SKIP LOCKED`;

/**
 * The per-number budget shared by every replica. Time is cut into slots (DB clock, so replicas
 * agree); slot s may carry floor((s+1)·r) − floor(s·r) messages (r = budget per slot), which
 * averages exactly to the rate. $5 = 0 reserves in the current slot (after an idle spell: send
 * now), where a late claim gets at most its share of the time left, so a slot's messages are never
 * squeezed into its last milliseconds; $5 = 1 reserves in the next slot (a busy number claims one
 * slot ahead, so the claim's own latency costs no budget). Returns the grant and, in ms from now,
 * when the slot starts (≤ 0: it has started) and ends.
 */
const RESERVE_SQL = `
  WITH c AS (
    SELECT s, ms, (floor((s + 1) * $2::float8) - floor(s * $2::float8))::int AS cap,
           (s * $3::bigint - ms)::int AS starts_in, ((s + 1) * $3::bigint - ms)::int AS ends_in
    FROM (SELECT ms / $3::bigint + $5::int AS s, ms FROM (SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms) t) u
  ), g AS (
    SELECT s, cap, starts_in, ends_in,
           GREATEST(0, LEAST($4::int, cap, ceil(cap * LEAST(ends_in, $3::int)::float8 / $3::float8)::int)) AS allowed FROM c
  )
  INSERT INTO gateway.rate_slot AS r (phone_number_id, slot, used, last_grant)
  SELECT $1, s, allowed, allowed FROM g
  ON CONFLICT (phone_number_id, slot) DO UPDATE
    SET used = r.used + GREATEST(0, LEAST(EXCLUDED.last_grant, (SELECT cap FROM g) - r.used)),
        last_grant = GREATEST(0, LEAST(EXCLUDED.last_grant, (SELECT cap FROM g) - r.used))
  RETURNING last_grant AS granted, (SELECT starts_in FROM g) AS starts_in, (SELECT ends_in FROM g) AS ends_in`;

export class Claimer {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly env: GatewayEnv,
    private readonly replicaId: string,
  ) {}

  /** Budget per slot for a number at its tier, after headroom. */
  slotRate(sender: Sender): number {
    return (sender.phone.throughputPerSecond * this.env.RATE_HEADROOM * this.env.RATE_SLOT_MS) / 1000;
  }

  /** `ahead`: reserve in the next slot rather than the current one (see RESERVE_SQL). */
  async claim(sender: Sender, want: number, priorityCap: number, probe: boolean, ahead = false): Promise<ClaimResult> {
    const tolerance = ((this.env.PAIR_BURST - 1) * this.env.PAIR_INTERVAL_MS) / 1000;
    return this.dataSource.transaction(async (manager) => {
      const rows: CandidateRow[] = await manager.query(CLAIM_SQL, [sender.phone.id, priorityCap, tolerance, want]);
      if (rows.length === 0) return { candidates: 0, sends: [], starved: 0 };
      const decided = await this.decideAll(manager, sender, rows);

      const failed = decided.filter((d) => d.decision.do === 'fail');
      for (const { row, decision } of failed) {
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
      if (sendable.length === 0) return { candidates: rows.length, sends: [], starved: 0 };
      const [grant] = (await manager.query(RESERVE_SQL, [
        sender.phone.id,
        this.slotRate(sender),
        this.env.RATE_SLOT_MS,
        sendable.length,
        ahead ? 1 : 0,
      ])) as { granted: number; starts_in: number; ends_in: number }[];
      const go = sendable.slice(0, grant.granted);
      if (go.length) {
        await manager.query(
          `UPDATE gateway.outbound_message
           SET state = 'sending', attempts = attempts + 1, claimed_by = $2,
               lease_until = now() + make_interval(secs => $3::float8 / 1000),
               first_sent_at = COALESCE(first_sent_at, now()), updated_at = now()
           WHERE request_id = ANY($1::uuid[])`,
          [go.map((d) => d.row.request_id), this.replicaId, this.env.SEND_TIMEOUT_MS + this.env.RATE_SLOT_MS + 5000],
        );
      }
      const sends = go.map(({ row, decision }) => this.toSend(row, decision, probe));
      return {
        candidates: rows.length,
        sends,
        starved: sendable.length - go.length,
        slot: { startsInMs: grant.starts_in, endsInMs: grant.ends_in },
      };
    });
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
         CASE WHEN $4 THEN (SELECT json_agg(json_build_object('wa_id', wa_id, 'last', last)) FROM (
           SELECT wa_id, max(last_inbound_at) AS last FROM gateway.contact_window
           WHERE tenant_id = $1 AND wa_id = ANY($2::text[]) AND phone_number_id IN ($3, '') GROUP BY wa_id) w) END AS windows,
         CASE WHEN $5 THEN (SELECT json_agg(json_build_object('wa_id', wa_id, 'category', category, 'state', state, 'occurred_at', occurred_at))
           FROM gateway.consent WHERE tenant_id = $1 AND wa_id = ANY($2::text[])) END AS consent,
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
      windows: { wa_id: string; last: string }[] | null;
      consent: { wa_id: string; category: string; state: string; occurred_at: string }[] | null;
      catalog: TemplateCatalogEntryV1[] | null;
    }[];
    const windows = new Map<string, Date>();
    for (const w of facts.windows ?? []) windows.set(w.wa_id, new Date(w.last));
    const consent = new Map<string, ConsentRecord[]>();
    for (const c of facts.consent ?? []) {
      const list = consent.get(c.wa_id) ?? [];
      list.push({ category: c.category, state: c.state, occurredAt: new Date(c.occurred_at) });
      consent.set(c.wa_id, list);
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
