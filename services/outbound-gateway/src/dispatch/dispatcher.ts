import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { MediaKind } from '@wa/contracts';
import { extractTraceContext, Outbox } from '@wa/kafka';
import { counter, gauge, histogram } from '@wa/observability';
import { InjectEnv } from '@wa/service-kit';
import { GraphClient, type CallOutcome } from '../cloud-api/graph-client';
import { buildMessagePayload } from '../cloud-api/payload';
import type { GatewayEnv } from '../config/env';
import { MediaService } from '../media/media.service';
import { TenantDirectory, type Sender } from '../tenancy/tenant-directory';
import { Claimer, type ClaimedSend } from './claimer';
import { PRIORITY_RANK } from './results';
import { CompletionWriter, type Completion } from './completion-writer';
import { HoldBook } from './holds';
import { Housekeeper } from './housekeeper';
import { ThroughputBackoff } from './throughput-backoff';

const calls = counter('gateway_cloud_api_calls_total', 'Cloud API /messages calls by outcome', ['phone_number_id', 'outcome']);
const callSeconds = histogram('gateway_cloud_api_call_seconds', 'Cloud API /messages call time', ['phone_number_id']);
const claimSeconds = histogram(
  'gateway_claim_seconds',
  'One claim transaction (select due, apply rules, mark claimed)',
  ['phone_number_id'],
  [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
);
const commitSeconds = histogram(
  'gateway_commit_seconds',
  'Taking a slot budget and marking its messages sending (one statement)',
  ['phone_number_id'],
  [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1],
);
const slotMisses = counter('gateway_slot_misses_total', 'Sends handed back because their slot ended before their moment came', [
  'phone_number_id',
]);
const claimed = counter('gateway_claimed_total', 'Messages claimed, sent with a token, or left without one (starved)', [
  'phone_number_id',
  'kind',
]);
const peak = gauge(
  'gateway_peak_sends_per_second',
  'Most Cloud API calls this replica made to a number in any sliding second (our clock)',
  ['phone_number_id'],
);
const tracer = trace.getTracer('outbound-gateway');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** A second of work is claimed at a time (rules applied), then sent slot by slot. */
const FILL_SECONDS = 1;
/** The ticker commits a slot's sends ahead of its start by its statement latency (smoothed) plus this. */
const TICK_MARGIN_MS = 15;

/**
 * One per business number, in every replica. Two loops and a pacer:
 * - the filler claims about a second of due messages at a time (priority order, head of line,
 *   pair pacing; rules applied) into a local buffer: one transaction per second of traffic;
 * - the ticker, just before each budget slot starts, runs one statement that takes the slot's
 *   tokens from the shared budget and marks exactly that many buffered messages `sending`;
 * - the pacer fires them at the number's rate, so nothing bursts even when a statement is late.
 * The expensive part (claiming) is off the per-slot path, so a slow database costs latency, not
 * throughput; the per-slot path is one short statement.
 */
class NumberLoop {
  private wakeUp?: () => void;
  private woken = false;
  private readonly backoff = new ThroughputBackoff();
  private emptyClaims = 0;
  /** Claimed by this replica, not yet given a token; priority order. */
  private buffer: ClaimedSend[] = [];
  /** When this replica's recent calls to the number were made (the last second's are counted). */
  private fired: number[] = [];
  private firedHead = 0;
  private nextTick = 0;
  /** The slot the ticker reserves next (null: the next one, whichever it is). */
  private nextSlot: number | null = null;
  /** Smoothed duration of the per-slot statement. */
  private commitMs = 10;
  private fillerDone?: Promise<void>;
  private tickerDone?: Promise<void>;

  constructor(
    private readonly dispatcher: Dispatcher,
    readonly sender: Sender,
  ) {}

  start(): void {
    this.fillerDone = this.fill();
    this.tickerDone = this.tick();
  }

  async stopped(): Promise<void> {
    this.wake();
    await Promise.all([this.fillerDone, this.tickerDone]);
    await this.releaseBuffer(() => true);
  }

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Meta said 130429: step this replica's share of the budget down for a while (other replicas learn on their own). */
  throttle(): void {
    this.backoff.refused(Date.now());
  }

  private factor(): number {
    return this.backoff.at(Date.now());
  }

  private rate(): number {
    return this.dispatcher.claimer.rate(this.sender) * this.factor();
  }

  private async releaseBuffer(which: (s: ClaimedSend) => boolean): Promise<void> {
    const released = this.buffer.filter(which);
    if (!released.length) return;
    this.buffer = this.buffer.filter((s) => !which(s));
    await this.dispatcher.claimer.release(released).catch((error) =>
      // Left `claimed`: the lease runs out and the housekeeper puts them back in the queue.
      this.dispatcher.log.error({ err: (error as Error).message, count: released.length }, 'releasing claimed messages failed'),
    );
  }

  private async fill(): Promise<void> {
    const d = this.dispatcher;
    while (d.running) {
      try {
        const gate = d.holds.gate(this.sender.tenant.id, this.sender.phone.id);
        if (gate.blocked) {
          await this.releaseBuffer(() => true);
          await this.idle(1000);
          continue;
        }
        if (gate.priorityCap === 0) await this.releaseBuffer((s) => s.request.priority !== 'reply');
        const target = gate.probe ? 1 : Math.max(1, Math.ceil(this.rate() * FILL_SECONDS));
        // Refill when half empty, or at once when something new arrived (a reply must not wait a second).
        if (this.buffer.length > target / 2 && !this.woken) {
          await this.idle(d.env.RATE_SLOT_MS);
          continue;
        }
        const want = Math.max(target - this.buffer.length, this.woken ? Math.min(target, 10) : 0);
        this.woken = false;
        if (want <= 0) continue;
        const timer = claimSeconds.startTimer({ phone_number_id: this.sender.phone.id });
        const claim = await d.claimer.claim(this.sender, want, gate.priorityCap, gate.probe);
        timer();
        claimed.inc({ phone_number_id: this.sender.phone.id, kind: 'claimed' }, claim.sends.length);
        if (claim.sends.length) {
          // Stable: replies first, then the order they were claimed in.
          this.buffer = [...this.buffer, ...claim.sends].sort(
            (a, b) => PRIORITY_RANK[a.request.priority] - PRIORITY_RANK[b.request.priority],
          );
        }
        if (claim.candidates === 0) {
          this.emptyClaims++;
          // New requests wake the loop at once; polling only finds retries coming due and other replicas' intake.
          await this.idle(Math.min(d.env.IDLE_POLL_MS, 25 * 2 ** Math.min(this.emptyClaims, 10)));
        } else {
          this.emptyClaims = 0;
          if (gate.probe) await this.idle(1000);
        }
      } catch (error) {
        d.log.error({ err: (error as Error).message, phoneNumberId: this.sender.phone.id }, 'claiming failed');
        await this.idle(1000);
      }
    }
  }

  private async tick(): Promise<void> {
    const d = this.dispatcher;
    const slot = d.env.RATE_SLOT_MS;
    while (d.running) {
      const wait = this.nextTick - Date.now();
      if (wait > 0) await sleep(wait);
      if (!d.running) break;
      const gate = d.holds.gate(this.sender.tenant.id, this.sender.phone.id);
      if (!this.buffer.length || gate.blocked || d.inFlight >= d.env.MAX_IN_FLIGHT) {
        // Nothing to do this slot; keep the rhythm without asking the database.
        this.nextTick = Math.max(this.nextTick + slot, Date.now() + (this.buffer.length ? 1 : slot / 2));
        if (this.nextSlot !== null) this.nextSlot++;
        continue;
      }
      const n = gate.probe ? 1 : Math.min(this.buffer.length, Math.ceil(d.claimer.slotRate(this.sender) * this.factor()));
      const head = this.buffer.slice(0, n);
      try {
        const t0 = Date.now();
        const result = await d.claimer.commit(this.sender, head, this.nextSlot);
        const t1 = Date.now();
        commitSeconds.observe({ phone_number_id: this.sender.phone.id }, (t1 - t0) / 1000);
        this.commitMs = 0.8 * this.commitMs + 0.2 * (t1 - t0);
        // The database's clock, mapped to ours at the middle of the round trip.
        const at = (t0 + t1) / 2;
        const sent = new Set(result.go.map((s) => s.requestId));
        // Rows among the granted head that did not turn `sending` are no longer ours (taken back): forget them.
        const lost = new Set(
          head
            .slice(0, result.granted)
            .filter((s) => !sent.has(s.requestId))
            .map((s) => s.requestId),
        );
        this.buffer = this.buffer.filter((s) => !sent.has(s.requestId) && !lost.has(s.requestId));
        claimed.inc({ phone_number_id: this.sender.phone.id, kind: 'sent' }, result.go.length);
        if (n > result.granted) claimed.inc({ phone_number_id: this.sender.phone.id, kind: 'starved' }, n - result.granted);
        if (result.go.length) {
          d.inFlight += result.go.length;
          this.spread(result.go, at + result.startsInMs, at + result.endsInMs);
        }
        // The next slot, committed ahead of its start by the statement's usual latency.
        this.nextSlot = result.slot + 1;
        this.nextTick = at + result.endsInMs - Math.min(slot / 2, this.commitMs * 2 + TICK_MARGIN_MS);
      } catch (error) {
        d.log.error({ err: (error as Error).message, phoneNumberId: this.sender.phone.id }, 'taking the slot budget failed');
        this.nextTick = Date.now() + slot;
        this.nextSlot = null;
      }
    }
  }

  /**
   * A token is good only inside its own slot. The slot's sends are spread evenly over it (5 ms
   * steps), so no replica bursts; a send whose slot has already ended when its moment comes (a
   * late statement, a stalled event loop) is not fired late but handed back to the buffer for a
   * later slot. So every replica's sends stay inside the slots they were granted, and together the
   * replicas never exceed a slot's budget: in any sliding second, about the rate and no more.
   */
  private spread(sends: ClaimedSend[], slotStart: number, slotEnd: number): void {
    const from = Math.max(Date.now(), slotStart);
    const span = Math.max(0, slotEnd - from - 2) * 0.9;
    const steps = Math.max(1, Math.min(sends.length, Math.floor(span / 5)));
    const per = Math.ceil(sends.length / steps);
    for (let i = 0; i * per < sends.length; i++) {
      const group = sends.slice(i * per, (i + 1) * per);
      const delay = from + (i * span) / steps - Date.now();
      setTimeout(() => this.fireInSlot(group, slotEnd), Math.max(0, delay));
    }
  }

  private firedInLastSecond(now: number): number {
    while (this.firedHead < this.fired.length && this.fired[this.firedHead] <= now - 1000) this.firedHead++;
    if (this.firedHead > 4096) {
      this.fired = this.fired.slice(this.firedHead);
      this.firedHead = 0;
    }
    return this.fired.length - this.firedHead;
  }

  private fireInSlot(sends: ClaimedSend[], slotEnd: number): void {
    const d = this.dispatcher;
    const gate = d.holds.gate(this.sender.tenant.id, this.sender.phone.id);
    // A hold came up after these got their token: do not call Meta; back to the queue.
    const held = gate.blocked ? sends : gate.priorityCap === 0 ? sends.filter((s) => s.request.priority !== 'reply') : [];
    if (held.length) {
      d.inFlight -= held.length;
      d.release(held);
    }
    const go = sends.filter((s) => !held.includes(s));
    const now = Date.now();
    // A quarter of a slot of lateness is tolerated (timers fire late under load); the guard below
    // still bounds every sliding second. Later than that, the token has expired.
    const deadline = slotEnd + d.env.RATE_SLOT_MS / 4;
    if (now > deadline) return this.handBack(go);
    // Strict on our own clock: never more than the budget in any sliding second, even when a
    // stalled event loop compresses a slot's sends toward its end.
    const cap = Math.max(1, Math.floor(this.rate()));
    let n = 0;
    // Each call stamped when it is made (creating a request takes time; a group shares no stamp).
    for (let t = now; n < go.length && this.firedInLastSecond(t) < cap; t = Date.now()) {
      this.fired.push(t);
      d.fire(go[n++], this.sender);
    }
    const rest = go.slice(n);
    if (!rest.length) return;
    const freeAt = this.fired[this.firedHead] + 1001;
    if (freeAt < deadline) setTimeout(() => this.fireInSlot(rest, slotEnd), Math.max(0, freeAt - Date.now()));
    else this.handBack(rest);
  }

  /** Sends whose slot ended before they could go: back to `claimed`, first in line for a later slot. */
  private handBack(late: ClaimedSend[]): void {
    if (!late.length) return;
    const d = this.dispatcher;
    d.inFlight -= late.length;
    slotMisses.inc({ phone_number_id: this.sender.phone.id }, late.length);
    void d.claimer.unsend(late).then(
      (back) => {
        const ids = new Set(back.map((s) => s.requestId));
        this.buffer = [...late.filter((s) => ids.has(s.requestId)), ...this.buffer];
      },
      (error) => d.log.error({ err: (error as Error).message, count: late.length }, 'handing back late sends failed'),
    );
  }

  /** Sleeps until woken or `ms` passed. A wake-up that came meanwhile is consumed (never a busy loop). */
  private idle(ms: number): Promise<void> {
    if (!this.dispatcher.running) return Promise.resolve();
    if (this.woken) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }
}

/**
 * The only component that calls the Cloud API /messages. Runs one loop per business number in
 * every replica; the rate budget, pacing and claims live in Postgres, so replicas cooperate
 * without knowing about each other.
 */
@Injectable()
export class Dispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly replicaId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly log: Logger;
  readonly holds = new HoldBook();
  readonly claimer: Claimer;
  private readonly writer: CompletionWriter;
  private readonly housekeeper: Housekeeper;
  private readonly loops = new Map<string, NumberLoop>();
  running = false;
  inFlight = 0;
  /** Cloud API calls this replica has made (tests and diagnostics). */
  calls = 0;

  constructor(
    private readonly dataSource: DataSource,
    outbox: Outbox,
    @InjectEnv() readonly env: GatewayEnv,
    @Inject(TenantDirectory) private readonly tenants: TenantDirectory,
    @Inject(GraphClient) private readonly graph: GraphClient,
    @Inject(MediaService) private readonly media: MediaService,
    logger: PinoLogger,
  ) {
    this.log = logger.logger.child({ component: 'dispatcher' });
    this.claimer = new Claimer(dataSource, outbox, env, this.replicaId);
    this.writer = new CompletionWriter(dataSource, outbox, env, tenants, this.log, {
      throttle: (phoneNumberId) => this.loops.get(phoneNumberId)?.throttle(),
      held: (hold) => this.holds.placeLocal(hold),
    });
    this.housekeeper = new Housekeeper(dataSource, outbox, env, this.replicaId, this.holds, tenants, media, this.log);
    // Started as soon as its dependencies exist, not after Nest's bootstrap: the app's bootstrap
    // waits for the Kafka consumer to join its group, which after a crash (the old member still
    // registered) takes a session timeout, and sending what is already queued needs no Kafka.
    if (env.DISPATCHER_ENABLED) setImmediate(() => void this.start());
  }

  /** Safety net when the dispatcher could not start early (it is idempotent). */
  async onApplicationBootstrap(): Promise<void> {
    if (this.env.DISPATCHER_ENABLED) await this.start();
  }

  private starting?: Promise<void>;
  private shutDown = false;

  start(): Promise<void> {
    if (this.shutDown) return Promise.resolve();
    this.starting ??= this.startNow().catch((error) => {
      this.starting = undefined;
      this.running = false;
      this.log.error({ err: (error as Error).message }, 'dispatcher failed to start; retrying at bootstrap');
    });
    return this.starting;
  }

  private async startNow(): Promise<void> {
    this.running = true;
    await this.housekeeper.start();
    for (const sender of this.tenants.senders()) {
      const loop = new NumberLoop(this, sender);
      this.loops.set(sender.phone.id, loop);
      loop.start();
    }
    this.log.info({ replica: this.replicaId, numbers: this.loops.size }, 'dispatcher started');
  }

  /** Graceful stop: no new claims, let in-flight calls finish (bounded by their timeout), record them. */
  async beforeApplicationShutdown(): Promise<void> {
    this.shutDown = true;
    await this.starting;
    if (!this.running) return;
    this.running = false;
    await Promise.all([...this.loops.values()].map((l) => l.stopped()));
    const deadline = Date.now() + this.env.SEND_TIMEOUT_MS + 2000;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(20);
    await this.writer.drain(deadline + 5000);
    await this.housekeeper.stop();
  }

  /** The intake recorded a request for this number: look now rather than at the next poll. */
  wake(phoneNumberId: string): void {
    this.loops.get(phoneNumberId)?.wake();
  }

  /** Test and operations hook: run one housekeeping pass now. */
  housekeepOnce(): Promise<void> {
    return this.housekeeper.runOnce();
  }

  release(sends: ClaimedSend[]): void {
    this.writer.release(sends).catch((error) =>
      // Left in 'sending': the lease runs out and they are settled as uncertain (never sent, so resent).
      this.log.error({ err: (error as Error).message, count: sends.length }, 'releasing held sends failed'),
    );
  }

  private readonly recent = new Map<string, { times: number[]; head: number; peak: number }>();

  /** One Cloud API call now (from a slot's schedule). */
  fire(send: ClaimedSend, sender: Sender): void {
    // Our own sliding-second count per number, to compare with what Meta (or the sandbox) measures.
    const now = Date.now();
    const r = this.recent.get(sender.phone.id) ?? { times: [], head: 0, peak: 0 };
    r.times.push(now);
    while (r.times[r.head] <= now - 1000) r.head++;
    if (r.head > 4096) {
      r.times = r.times.slice(r.head);
      r.head = 0;
    }
    const count = r.times.length - r.head;
    if (count > r.peak) {
      r.peak = count;
      peak.set({ phone_number_id: sender.phone.id }, count);
    }
    this.recent.set(sender.phone.id, r);
    void this.sendOne(send, sender);
  }

  private async sendOne(send: ClaimedSend, sender: Sender): Promise<void> {
    const parent = send.trace ? extractTraceContext(send.trace) : ROOT_CONTEXT;
    const completion: Completion = await tracer.startActiveSpan(
      'whatsapp send',
      { kind: SpanKind.CLIENT, attributes: { 'wa.request_id': send.requestId, 'wa.kind': send.kind, 'wa.attempt': send.attempt } },
      parent,
      async (span) => {
        try {
          const result = await this.call(send, sender);
          if (result.outcome.kind !== 'accepted') span.setStatus({ code: SpanStatusCode.ERROR, message: result.outcome.kind });
          return result;
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          return { send, outcome: { kind: 'not-sent', detail: (error as Error).message } as CallOutcome };
        } finally {
          span.end();
        }
      },
    );
    this.inFlight--;
    this.calls++;
    calls.inc({ phone_number_id: send.phoneNumberId, outcome: completion.fail ? 'not-called' : completion.outcome.kind });
    this.writer.push(completion);
  }

  private async call(send: ClaimedSend, sender: Sender): Promise<Completion> {
    let payload = send.payload;
    if (send.assetId) {
      const media = await this.media.resolve(sender, send.assetId, send.kind as MediaKind);
      if ('fail' in media) return { send, outcome: { kind: 'not-sent', detail: media.fail.detail }, fail: media.fail };
      if ('outcome' in media) return { send, outcome: media.outcome };
      payload = buildMessagePayload(send.request, { mediaId: media.mediaId });
    }
    let accessToken: string;
    try {
      accessToken = this.tenants.accessToken(sender.tenant);
    } catch {
      // The reference names the variable, never the value; treated like a rejected token (hold + alert).
      return {
        send,
        outcome: { kind: 'error', httpStatus: 0, code: 190, message: `access token ${sender.tenant.accessTokenRef} is not available` },
      };
    }
    const timer = callSeconds.startTimer({ phone_number_id: send.phoneNumberId });
    const outcome = await this.graph.sendMessage(
      { graphVersion: sender.graphVersion, phoneNumberId: sender.phone.id, accessToken },
      payload,
    );
    timer();
    return { send, outcome };
  }
}
