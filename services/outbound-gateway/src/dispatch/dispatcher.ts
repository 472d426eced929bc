import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { MediaKind } from '@wa/contracts';
import { extractTraceContext, Outbox } from '@wa/kafka';
import { counter, histogram } from '@wa/observability';
import { InjectEnv } from '@wa/service-kit';
import { GraphClient, type CallOutcome } from '../cloud-api/graph-client';
import { buildMessagePayload } from '../cloud-api/payload';
import type { GatewayEnv } from '../config/env';
import { MediaService } from '../media/media.service';
import { TenantDirectory, type Sender } from '../tenancy/tenant-directory';
import { Claimer, type ClaimedSend } from './claimer';
import { CompletionWriter, type Completion } from './completion-writer';
import { HoldBook } from './holds';
import { Housekeeper } from './housekeeper';

const calls = counter('gateway_cloud_api_calls_total', 'Cloud API /messages calls by outcome', ['phone_number_id', 'outcome']);
const callSeconds = histogram('gateway_cloud_api_call_seconds', 'Cloud API /messages call time', ['phone_number_id']);
const claimSeconds = histogram(
  'gateway_claim_seconds',
  'One claim transaction (select due, decide, reserve budget)',
  ['phone_number_id'],
  [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
);
const claimed = counter('gateway_claimed_total', 'Messages claimed for sending, and claims that found the slot budget used up', [
  'phone_number_id',
  'kind',
]);
const tracer = trace.getTracer('outbound-gateway');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/**
 * One loop per business number: claim what is due (priority order, pacing, head of line) under the
 * number's budget for the current slot, spread the sends over the slot, wait for the next slot.
 * Idle loops sleep until the intake wakes them or the poll interval passes (retries, other replicas).
 */
class NumberLoop {
  private wakeUp?: () => void;
  private woken = false;
  /** The previous claim found work: claim the next slot ahead of time. */
  private busy = false;
  /** Empty claims in a row: an idle number is polled less and less often, up to IDLE_POLL_MS. */
  private emptyClaims = 0;
  private throttledUntil = 0;
  done?: Promise<void>;
  /** Claimed sends waiting for the pacer, in claim order (priority order within a claim). */
  private readonly queue: ClaimedSend[] = [];
  private allowance = 0;
  private lastTick = 0;
  private pacer?: NodeJS.Timeout;

  constructor(
    private readonly dispatcher: Dispatcher,
    readonly sender: Sender,
  ) {}

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Meta said 130429: use half the budget for a few seconds (other replicas learn on their own). */
  throttle(): void {
    this.throttledUntil = Date.now() + 5000;
  }

  private rate(): number {
    const d = this.dispatcher;
    return this.sender.phone.throughputPerSecond * d.env.RATE_HEADROOM * (Date.now() < this.throttledUntil ? 0.5 : 1);
  }

  /**
   * The last guard before Meta: a leaky bucket at the number's rate with a 20 ms burst. The shared
   * slot budget decides how many messages a replica may send per slot; this decides when, so a
   * claim that returns late (a slow database) can never fire its slot's messages as one burst on
   * top of the next slot's. In any sliding second a replica sends at most rate + burst.
   */
  enqueue(sends: ClaimedSend[]): void {
    this.queue.push(...sends);
    if (!this.pacer) {
      this.lastTick = Date.now();
      this.allowance = Math.max(this.allowance, 1);
      this.tick();
    }
  }

  private tick(): void {
    const d = this.dispatcher;
    const gate = d.holds.gate(this.sender.tenant.id, this.sender.phone.id);
    if (gate.blocked || (gate.priorityCap === 0 && this.queue.some((s) => s.request.priority !== 'reply'))) {
      // A hold came up after these were claimed: do not call Meta; they go back to the queue.
      const keep = gate.blocked ? [] : this.queue.filter((s) => s.request.priority === 'reply');
      const released = this.queue.filter((s) => !keep.includes(s));
      this.queue.splice(0, this.queue.length, ...keep);
      d.inFlight -= released.length;
      d.release(released);
      if (!this.queue.length) {
        this.pacer = undefined;
        return;
      }
    }
    const now = Date.now();
    const rate = this.rate();
    const burst = Math.max(1, rate * 0.02);
    this.allowance = Math.min(burst, this.allowance + ((now - this.lastTick) * rate) / 1000);
    this.lastTick = now;
    while (this.allowance >= 1 && this.queue.length) {
      this.allowance -= 1;
      this.dispatcher.fire(this.queue.shift()!, this.sender);
    }
    this.pacer = this.queue.length ? setTimeout(() => this.tick(), 4) : undefined;
  }

  get queued(): number {
    return this.queue.length;
  }

  start(): void {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    const d = this.dispatcher;
    while (d.running) {
      try {
        await this.iteration();
      } catch (error) {
        d.log.error({ err: (error as Error).message, phoneNumberId: this.sender.phone.id }, 'dispatch iteration failed');
        await this.idle(1000);
      }
    }
  }

  private async iteration(): Promise<void> {
    const d = this.dispatcher;
    const gate = d.holds.gate(this.sender.tenant.id, this.sender.phone.id);
    if (gate.blocked) return this.idle(1000);
    if (d.inFlight >= d.env.MAX_IN_FLIGHT) return sleep(5);
    // More than a slot's worth still waiting for the pacer (Meta slower than the budget): no new claim yet.
    if (this.queued > d.claimer.slotRate(this.sender) * 2) return sleep(d.env.RATE_SLOT_MS / 2);
    const factor = Date.now() < this.throttledUntil ? 0.5 : 1;
    const want = gate.probe ? 1 : Math.max(1, Math.ceil(d.claimer.slotRate(this.sender) * factor));
    this.woken = false;
    // After an idle spell the first claim uses the current slot (a reply goes out now); while
    // busy, each claim reserves the next slot during the current one, so its latency costs nothing.
    const ahead = this.busy && !gate.probe;
    const timer = claimSeconds.startTimer({ phone_number_id: this.sender.phone.id });
    const claim = await d.claimer.claim(this.sender, want, gate.priorityCap, gate.probe, ahead);
    timer();
    claimed.inc({ phone_number_id: this.sender.phone.id, kind: 'sent' }, claim.sends.length);
    if (claim.starved) claimed.inc({ phone_number_id: this.sender.phone.id, kind: 'starved' }, claim.starved);
    if (claim.sends.length) {
      d.inFlight += claim.sends.length;
      // Sends reserved in the next slot wait for it to begin; the pacer spreads them from there.
      const startsIn = claim.slot?.startsInMs ?? 0;
      if (startsIn > 1) setTimeout(() => this.enqueue(claim.sends), startsIn);
      else this.enqueue(claim.sends);
    }
    if (claim.candidates === 0) {
      this.busy = false;
      this.emptyClaims++;
      // New requests wake the loop at once; polling only finds retries coming due and other replicas' intake.
      return this.idle(Math.min(d.env.IDLE_POLL_MS, 25 * 2 ** Math.min(this.emptyClaims, 10)));
    }
    this.emptyClaims = 0;
    this.busy = true;
    if (gate.probe) return sleep(1000);
    // Next claim once the slot just reserved has begun (right away if it already has).
    if (claim.slot) return sleep(claim.slot.startsInMs + 1);
  }

  /** Sleeps until woken or `ms` passed. A wake-up that came meanwhile is consumed (never a busy loop). */
  private idle(ms: number): Promise<void> {
    if (!this.dispatcher.running) return Promise.resolve();
    if (this.woken) {
      this.woken = false;
      return new Promise((resolve) => setImmediate(resolve));
    }
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
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.env.DISPATCHER_ENABLED) return;
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
    if (!this.running) return;
    this.running = false;
    for (const loop of this.loops.values()) loop.wake();
    await Promise.all([...this.loops.values()].map((l) => l.done));
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

  /** Called by a number's pacer: one Cloud API call now. */
  fire(send: ClaimedSend, sender: Sender): void {
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
