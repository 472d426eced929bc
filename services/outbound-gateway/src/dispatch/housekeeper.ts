import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Outbox } from '@wa/kafka';
import { counter, gauge } from '@wa/observability';
import type { GatewayEnv } from '../config/env';
import type { MediaService } from '../media/media.service';
import type { TenantDirectory } from '../tenancy/tenant-directory';
import { HoldBook } from './holds';
import { addResult, type ResultSource } from './results';
import { rows as sql } from '../db';

const reaped = counter('gateway_uncertain_sends_total', 'Sends whose outcome was unknown, by how it was settled', ['settled']);
const holdsActive = gauge('gateway_holds_active', 'Tenants or numbers on hold (1 = sending stopped)', ['scope', 'scope_id', 'reason']);
const queueDepth = gauge('gateway_queue_depth', 'Open send requests per number and state', ['phone_number_id', 'state']);

/**
 * Runs every second on every replica (each statement is idempotent, so replicas may overlap):
 * heartbeat; sends of a dead replica (or past their lease) become uncertain; uncertain sends are
 * settled by a status webhook that names their request, else resent after the grace period;
 * holds are reloaded (and an auth hold lifted when the token changed); old rows are pruned.
 */
export class Housekeeper {
  private timer?: NodeJS.Timeout;
  private running = false;
  private tick?: Promise<void>;
  private ticks = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly env: GatewayEnv,
    private readonly replicaId: string,
    private readonly holds: HoldBook,
    private readonly tenants: TenantDirectory,
    private readonly media: MediaService,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.running = true;
    await this.heartbeat();
    await this.holds.refresh(this.dataSource);
    const loop = async () => {
      if (!this.running) return;
      this.tick = this.runOnce().catch((error) => this.log.error({ err: (error as Error).message }, 'housekeeping failed'));
      await this.tick;
      if (this.running) this.timer = setTimeout(() => void loop(), 1000);
    };
    this.timer = setTimeout(() => void loop(), 1000);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.tick;
    // Leaving cleanly: nothing of ours is in flight any more, so nobody needs to wait for our heartbeat.
    await this.dataSource.query(`DELETE FROM gateway.replica WHERE id = $1`, [this.replicaId]).catch(() => undefined);
  }

  async runOnce(): Promise<void> {
    this.ticks++;
    await this.heartbeat();
    await this.reapDead();
    await this.settleUncertain();
    await this.refreshHolds();
    if (this.ticks % 5 === 0) await this.sampleQueue();
    if (this.ticks % 30 === 0) await this.prune();
    if (this.ticks % 600 === 1) {
      const refreshed = await this.media.refreshExpiring().catch(() => 0);
      if (refreshed) this.log.info({ refreshed }, 'agency files re-uploaded before their media ids expire');
    }
  }

  private async heartbeat(): Promise<void> {
    await this.dataSource.query(`INSERT INTO gateway.replica (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`, [
      this.replicaId,
    ]);
  }

  /**
   * Messages a stopped replica had claimed but not sent go back to the queue. A send it had
   * started (or one held past its lease) may or may not have reached Meta: uncertain.
   */
  async reapDead(): Promise<number> {
    await this.dataSource.query(
      `UPDATE gateway.outbound_message m SET state = 'queued', claimed_by = NULL, lease_until = NULL, updated_at = now()
       WHERE m.state = 'claimed'
         AND (m.lease_until < now()
              OR (m.claimed_by <> $1 AND NOT EXISTS (
                    SELECT 1 FROM gateway.replica r WHERE r.id = m.claimed_by AND r.heartbeat_at > now() - make_interval(secs => $2::float8 / 1000))))`,
      [this.replicaId, this.env.REPLICA_DEAD_AFTER_MS],
    );
    const rows = await sql(
      this.dataSource,
      `UPDATE gateway.outbound_message m
       SET state = CASE WHEN m.kind = 'mark_read' THEN 'queued' ELSE 'uncertain' END,
           uncertain_since = CASE WHEN m.kind = 'mark_read' THEN m.uncertain_since ELSE COALESCE(m.uncertain_since, now()) END,
           due_at = CASE WHEN m.kind = 'mark_read' THEN now() ELSE now() + make_interval(secs => $3::float8 / 1000) END,
           events = m.events || jsonb_build_array(jsonb_build_object('at', now(), 'type', 'reaped', 'attempt', m.attempts)),
           claimed_by = NULL, lease_until = NULL, updated_at = now()
       WHERE m.state = 'sending'
         AND (m.lease_until < now()
              OR (m.claimed_by <> $1 AND NOT EXISTS (
                    SELECT 1 FROM gateway.replica r WHERE r.id = m.claimed_by AND r.heartbeat_at > now() - make_interval(secs => $2::float8 / 1000))))
       RETURNING 1`,
      [this.replicaId, this.env.REPLICA_DEAD_AFTER_MS, this.env.UNCERTAIN_GRACE_MS],
    );
    if (rows.length) {
      reaped.inc({ settled: 'reaped' }, rows.length);
      this.log.warn({ count: rows.length }, 'sends of a stopped replica are uncertain; waiting for status webhooks before resending');
    }
    return rows.length;
  }

  /**
   * Status webhooks echo biz_opaque_callback_data = requestId, so a status that arrived names the
   * request even though we never recorded its wamid: settled as accepted. What is still unnamed
   * when the grace period ends is sent again (the duplicate risk is bounded in docs/gateway.md).
   */
  async settleUncertain(): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const settled = await sql<ResultSource & { wamid: string }>(
        manager,
        `UPDATE gateway.outbound_message m
         SET state = 'accepted', wamid = s.wamid, decided_at = now(), uncertain_since = NULL, claimed_by = NULL, lease_until = NULL,
             events = m.events || jsonb_build_array(jsonb_build_object('at', now(), 'type', 'settled-by-status', 'wamid', s.wamid)), updated_at = now()
         FROM (SELECT DISTINCT ON (ms.request_id) ms.request_id, ms.wamid FROM gateway.message_status ms
               WHERE ms.request_id IN (SELECT request_id FROM gateway.outbound_message
                                       WHERE state = 'uncertain' OR (state IN ('queued', 'claimed') AND uncertain_since IS NOT NULL))
               ORDER BY ms.request_id, ms.occurred_at) s
         WHERE m.request_id = s.request_id AND (m.state = 'uncertain' OR (m.state IN ('queued', 'claimed') AND m.uncertain_since IS NOT NULL))
           AND NOT EXISTS (SELECT 1 FROM gateway.outbound_message o WHERE o.wamid = s.wamid)
         RETURNING m.request_id, m.tenant_id, m.phone_number_id, m.request, m.attempts, m.trace, m.wamid`,
      );
      for (const row of settled) await addResult(this.outbox, manager, row, { outcome: 'accepted', wamid: row.wamid });
      if (settled.length) reaped.inc({ settled: 'status' }, settled.length);
    });
    const resent = await sql(
      this.dataSource,
      `UPDATE gateway.outbound_message
       SET state = 'queued', due_at = now(), events = events || jsonb_build_array(jsonb_build_object('at', now(), 'type', 'resend-after-uncertain')),
           updated_at = now()
       WHERE state = 'uncertain' AND due_at <= now() RETURNING 1`,
    );
    if (resent.length) {
      reaped.inc({ settled: 'resent' }, resent.length);
      this.log.warn({ count: resent.length }, 'no status webhook named these uncertain sends within the grace period: sending again');
    }
  }

  private async refreshHolds(): Promise<void> {
    const holds = await this.holds.refresh(this.dataSource);
    holdsActive.reset();
    for (const hold of holds) {
      if (hold.reason === 'auth' && hold.scope === 'tenant') {
        const tenant = this.tenants.registry.tenant(hold.scope_id);
        if (tenant && hold.token_fingerprint && this.tenants.tokenFingerprint(tenant) !== hold.token_fingerprint) {
          await HoldBook.lift(this.dataSource, hold.scope, hold.scope_id, hold.reason);
          this.log.warn({ tenantId: hold.scope_id }, 'access token changed: auth hold lifted, sending resumes');
          continue;
        }
      }
      holdsActive.set({ scope: hold.scope, scope_id: hold.scope_id, reason: hold.reason }, 1);
    }
  }

  private async sampleQueue(): Promise<void> {
    const rows: { phone_number_id: string; state: string; n: string }[] = await this.dataSource.query(
      `SELECT phone_number_id, state, count(*) AS n FROM gateway.outbound_message WHERE state IN ('queued', 'sending', 'uncertain') GROUP BY 1, 2`,
    );
    queueDepth.reset();
    for (const r of rows) queueDepth.set({ phone_number_id: r.phone_number_id, state: r.state }, Number(r.n));
  }

  private async prune(): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM gateway.rate_slot WHERE slot < (floor(extract(epoch FROM now()) * 1000)::bigint - 60000) / $1::bigint`,
      [this.env.RATE_SLOT_MS],
    );
    await this.dataSource.query(`DELETE FROM gateway.pair_pacing WHERE tat < now() - interval '1 hour'`);
    await this.dataSource.query(`DELETE FROM gateway.replica WHERE heartbeat_at < now() - interval '1 day'`);
  }
}
