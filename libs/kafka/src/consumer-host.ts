import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import pino, { type Logger } from 'pino';
import { ContractViolation, decodeEvent, headerString, type EventEnvelope, type TopicSpec } from '@wa/contracts';
import { counter, gauge, histogram } from '@wa/observability';
import { classifyFailure, describeError, isInfrastructureError, type FailureKind } from './errors';
import { prefixed, unprefixed, type KafkaOptions } from './kafka-options';
import type { EventProducer } from './producer';
import { ensureTopics, type TopicDeclaration } from './topic-admin';
import { extractTraceContext, startConsumerSpan } from './trace-context';

export interface RecordContext {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
  /** 1 on first delivery; grows as the record comes back from the retry topic. */
  attempt: number;
}

export type EventHandler = (envelope: EventEnvelope, record: RecordContext) => Promise<void>;

/** One decoded, validated record handed to a batch handler. */
export interface BatchItem {
  envelope: EventEnvelope;
  record: RecordContext;
}

/**
 * Handles consecutive records of one partition at once (in offset order), so a consumer can apply
 * them with a few multi-row statements instead of one transaction per record. It must be
 * idempotent per record, like every handler: if it throws, the host replays the same records one
 * at a time through it (single-item batches) with the usual in-place retries, retry topic and DLQ,
 * so one bad record cannot hold back or poison the others.
 */
export type BatchEventHandler = (items: BatchItem[]) => Promise<void>;

export interface BatchHandlerOptions {
  /** Most records per call; a fetched batch is cut into chunks of this size (default 500). */
  maxBatchSize?: number;
}

/** Told after a record was written to the group's DLQ (metrics per tenant, alerts). */
export interface DeadLetterEvent {
  /** The logical topic the record was read from (the original topic for retried records). */
  topic: string;
  /** invalid-payload, unknown-type, not-json, missing-header, tenant-mismatch, non-retriable, retries-exhausted, no-handler ... */
  reason: string;
  error: string;
  /** The record's own headers (ce_type, ce_tenant ... when the producer set them). */
  headers: Record<string, string>;
  key: string | null;
}
export type DeadLetterListener = (event: DeadLetterEvent) => void;

export interface RetryPolicy {
  /** In-place tries (with short backoff) before handing the record to the retry topic. */
  inlineAttempts: number;
  inlineBackoffMs: number;
  /** Delay before each pass through the retry topic; after the last, the DLQ. */
  retryDelaysMs: number[];
}

/** How a partition waits for PostgreSQL or Kafka to come back (see FailureKind 'infrastructure'). */
export interface InfrastructureBackoff {
  /** First pause after an infrastructure failure; doubles (with jitter) while it lasts. */
  initialMs: number;
  maxMs: number;
}

export interface ConsumerHostOptions {
  groupId: string;
  /** Partitions processed in parallel; order within a partition (so per key) is always kept. */
  partitionsConsumedConcurrently?: number;
  retry?: Partial<RetryPolicy>;
  /** Default 500 ms doubling to 30 s. */
  infrastructureBackoff?: Partial<InfrastructureBackoff>;
  /**
   * The group drops a member that sends no heartbeat for this long (default 30 s). The host
   * heartbeats every few seconds while a handler runs, so slow handlers do not trigger rebalances.
   */
  sessionTimeoutMs?: number;
  fromBeginning?: boolean;
  /** How often the group's lag is sampled into the kafka_consumer_lag gauge; 0 turns it off. */
  lagSampleIntervalMs?: number;
  logger?: Logger;
}

export const RETRY_HEADERS = {
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  attempt: 'x-attempt',
  notBefore: 'x-not-before',
  firstFailedAt: 'x-first-failed-at',
  error: 'x-error',
  reason: 'x-dlq-reason',
  group: 'x-consumer-group',
} as const;

const DEFAULT_RETRY: RetryPolicy = { inlineAttempts: 3, inlineBackoffMs: 100, retryDelaysMs: [1000, 10000, 60000] };
const DEFAULT_INFRASTRUCTURE_BACKOFF: InfrastructureBackoff = { initialMs: 500, maxMs: 30000 };
const HEARTBEAT_INTERVAL_MS = 3000;

const lagGauge = gauge('kafka_consumer_lag', 'Records not yet committed by the group, per partition', ['topic', 'group', 'partition']);
const consumed = counter('kafka_consumed_records_total', 'Records handled, by outcome', ['topic', 'group', 'outcome']);
const handlerSeconds = histogram('kafka_handler_duration_seconds', 'Handler time per record', ['topic', 'group']);
const batchSeconds = histogram('kafka_batch_handler_duration_seconds', 'Batch handler time per call', ['topic', 'group']);
const batchFallbacks = counter('kafka_batch_fallbacks_total', 'Batches replayed record by record after the batch handler failed', [
  'topic',
  'group',
]);
const infrastructureWaits = counter(
  'kafka_consumer_infrastructure_waits_total',
  'Times a partition paused because PostgreSQL or Kafka was unavailable (the record is tried again, not retried or dead-lettered)',
  ['topic', 'group'],
);
const waitingPartitions = gauge('kafka_consumer_waiting_partitions', 'Partitions paused until PostgreSQL or Kafka is available again', [
  'group',
]);
const tracer = trace.getTracer('@wa/kafka');

type Heartbeat = () => Promise<void>;

interface Registration {
  spec: TopicSpec;
  /** Per-record entry point; for batch registrations it wraps a single-item batch. */
  handle: EventHandler;
  batch?: { handle: BatchEventHandler; maxBatchSize: number };
}

interface Decoded {
  message: KafkaMessage;
  record: RecordContext;
  envelope: EventEnvelope;
}

/**
 * The topics a consumer group owns besides what it consumes: delayed retries and dead letters.
 * Created by the group at start; rendered into the Kubernetes topic definitions by tools/.
 */
export function groupTopicDeclarations(groupId: string): TopicDeclaration[] {
  // Records are forwarded byte for byte, so these accept what the largest source topic does.
  const maxMessageBytes = 8 * 1024 * 1024;
  return [
    { name: retryTopicName(groupId), partitions: 3, cleanupPolicy: 'delete', retentionMs: 7 * 86400000, maxMessageBytes },
    { name: dlqTopicName(groupId), partitions: 1, cleanupPolicy: 'delete', retentionMs: 30 * 86400000, maxMessageBytes },
  ];
}

export function retryTopicName(groupId: string): string {
  return `${groupId}.retry`;
}
export function dlqTopicName(groupId: string): string {
  return `${groupId}.dlq`;
}

function stringHeaders(message: KafkaMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    const s = headerString(message.headers, k);
    if (s !== undefined && v !== undefined) out[k] = s;
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A heartbeat() failure (a rebalance, most often), kept apart from the handlers' own errors. */
class HeartbeatFailure extends Error {
  constructor(override readonly cause: unknown) {
    super(describeError(cause));
    this.name = 'HeartbeatFailure';
  }
}

/**
 * Runs `work` while heartbeating every few seconds: kafkajs heartbeats only when told to between
 * records, so a handler that takes longer than the session timeout (slow queries, a large batch)
 * would otherwise get the member evicted and the group rebalanced. Failures are left for the next
 * explicit heartbeat to report.
 */
async function keepAlive<T>(heartbeat: Heartbeat, work: () => Promise<T>): Promise<T> {
  // kafkajs sends one only when the interval has passed since the last, so ticking faster keeps the gaps near it.
  const timer = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_INTERVAL_MS / 3);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * Runs the handlers of one consumer group. Per partition it is strictly sequential, so one key's
 * records are handled in order; failures never block a partition: after a few in-place tries a
 * record moves to the group's retry topic (due later), and after the last retry to the group's
 * DLQ with headers saying why. Records that can never succeed (invalid, unknown type) go straight
 * to the DLQ. A failure because PostgreSQL or Kafka is unavailable (errors.ts, FailureKind) is not
 * held against the record: the partition pauses with backoff and the same record is tried again
 * until the dependency is back, however long that takes, so an outage dead-letters nothing.
 */
export class ConsumerHost {
  private readonly consumer: Consumer;
  private readonly handlers = new Map<string, Registration>();
  private readonly deadLetterListeners: DeadLetterListener[] = [];
  private readonly retry: RetryPolicy;
  private readonly infraBackoff: InfrastructureBackoff;
  /** Consecutive infrastructure waits per (prefixed) topic/partition, for the backoff. */
  private readonly outages = new Map<string, number>();
  private readonly log: Logger;
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private readonly retryTopic: string;
  private readonly dlqTopic: string;
  private running = false;
  private lagTimer?: NodeJS.Timeout;
  private admin?: Admin;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaOptions,
    private readonly producer: EventProducer,
    private readonly host: ConsumerHostOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: prefixed(options, host.groupId),
      sessionTimeout: host.sessionTimeoutMs ?? 30000,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      allowAutoTopicCreation: false,
      // Above the largest record any topic accepts, or the consumer could stick on one record.
      maxBytesPerPartition: 10 * 1024 * 1024,
    });
    this.retry = { ...DEFAULT_RETRY, ...host.retry };
    this.infraBackoff = { ...DEFAULT_INFRASTRUCTURE_BACKOFF, ...host.infrastructureBackoff };
    this.log = host.logger ?? pino({ level: 'warn' });
    this.retryTopic = retryTopicName(host.groupId);
    this.dlqTopic = dlqTopicName(host.groupId);
  }

  get groupId(): string {
    return this.host.groupId;
  }

  register(spec: TopicSpec, handle: EventHandler): void {
    this.assertRegistrable(spec);
    this.handlers.set(spec.name, { spec, handle });
  }

  /**
   * Registers a handler that gets the valid records of a fetched batch in chunks (see
   * BatchEventHandler). Invalid records still go straight to the DLQ, one by one; records coming
   * back from the retry topic are handed over as single-item batches.
   */
  registerBatch(spec: TopicSpec, handle: BatchEventHandler, options: BatchHandlerOptions = {}): void {
    this.assertRegistrable(spec);
    const maxBatchSize = options.maxBatchSize ?? 500;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new Error('maxBatchSize must be a positive integer');
    this.handlers.set(spec.name, {
      spec,
      handle: (envelope, record) => handle([{ envelope, record }]),
      batch: { handle, maxBatchSize },
    });
  }

  /** Called after each record this group dead-letters; a throwing listener is logged and ignored. */
  onDeadLetter(listener: DeadLetterListener): void {
    this.deadLetterListeners.push(listener);
  }

  private assertRegistrable(spec: TopicSpec): void {
    if (this.running) throw new Error('register handlers before start()');
    if (this.handlers.has(spec.name)) throw new Error(`${spec.name} already has a handler in ${this.host.groupId}`);
  }

  get topics(): string[] {
    return [...this.handlers.keys()];
  }

  async start(): Promise<void> {
    if (this.handlers.size === 0) return;
    await ensureTopics(this.kafka, this.options, groupTopicDeclarations(this.host.groupId));
    await this.producer.connect();
    await this.consumer.connect();
    const topics = [...this.handlers.keys(), this.retryTopic].map((t) => prefixed(this.options, t));
    await this.consumer.subscribe({ topics, fromBeginning: this.host.fromBeginning ?? true });
    this.running = true;
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommitInterval: 1000,
      partitionsConsumedConcurrently: this.host.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    const interval = this.host.lagSampleIntervalMs ?? 15000;
    if (interval > 0) {
      this.lagTimer = setInterval(() => void this.sampleLag().catch(() => undefined), interval);
      this.lagTimer.unref();
    }
  }

  /**
   * Lag per partition (latest offset minus the group's committed offset), the figure operators
   * and autoscalers watch. Also returned for tests and diagnostics.
   */
  async sampleLag(): Promise<Record<string, number>> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    const groupId = prefixed(this.options, this.host.groupId);
    const result: Record<string, number> = {};
    for (const topic of [...this.handlers.keys(), this.retryTopic]) {
      const name = prefixed(this.options, topic);
      const [latest, [committed]] = await Promise.all([
        this.admin.fetchTopicOffsets(name),
        this.admin.fetchOffsets({ groupId, topics: [name] }),
      ]);
      for (const partition of latest) {
        const done = committed?.partitions.find((p) => p.partition === partition.partition)?.offset ?? '-1';
        const lag = Math.max(0, Number(partition.high) - (Number(done) >= 0 ? Number(done) : Number(partition.low)));
        lagGauge.set({ topic, group: this.host.groupId, partition: String(partition.partition) }, lag);
        result[`${topic}/${partition.partition}`] = lag;
      }
    }
    return result;
  }

  /** Back-pressure: stop fetching a topic (e.g. while a downstream API rate-limits us). */
  pause(topic: string): void {
    this.consumer.pause([{ topic: prefixed(this.options, topic) }]);
  }

  resume(topic: string): void {
    this.consumer.resume([{ topic: prefixed(this.options, topic) }]);
  }

  /** Stops fetching, lets the in-flight batch finish, commits what finished. */
  async stop(): Promise<void> {
    this.running = false;
    this.resumeTimers.forEach(clearTimeout);
    this.resumeTimers.clear();
    this.outages.clear();
    waitingPartitions.set({ group: this.host.groupId }, 0);
    clearInterval(this.lagTimer);
    await this.consumer.disconnect();
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const topic = unprefixed(this.options, batch.topic);
    const registration = this.handlers.get(topic);
    if (registration?.batch && topic !== this.retryTopic) {
      await this.eachBatchGrouped(registration, topic, payload);
      return;
    }
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) break;
      if (topic === this.retryTopic) {
        const notBefore = Number(headerString(message.headers, RETRY_HEADERS.notBefore) ?? 0);
        const wait = notBefore - Date.now();
        if (wait > 0) {
          // Not due: stop this retry partition until it is; the unresolved record is fetched again.
          this.pauseFor(batch.topic, batch.partition, wait);
          break;
        }
      }
      try {
        await this.handle(topic, batch.partition, message, heartbeat);
      } catch (error) {
        if (!isInfrastructureError(error)) throw error;
        this.waitForInfrastructure(topic, batch.topic, batch.partition, message.offset, error);
        break;
      }
      this.recovered(batch.topic, batch.partition);
      resolveOffset(message.offset);
      await heartbeat();
    }
    await commitOffsetsIfNecessary();
  }

  /**
   * The batch-handler path: valid records are collected into chunks and handed over together; an
   * offset is resolved only once everything up to it has been handled (or dead-lettered). Invalid
   * records flush the chunk before them first, so the DLQ and the effects keep offset order.
   */
  private async eachBatchGrouped(
    registration: Registration,
    topic: string,
    { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload,
  ): Promise<void> {
    const maxBatchSize = registration.batch!.maxBatchSize;
    let chunk: Decoded[] = [];
    let handled = false;
    // Infrastructure failures unwind to here; `pending` is the first record not yet finished.
    let pending: string | undefined;
    const beat: Heartbeat = () =>
      heartbeat().catch((error: unknown) => {
        throw new HeartbeatFailure(error);
      });
    const flush = async () => {
      if (chunk.length) {
        const items = chunk;
        chunk = [];
        pending = items[0].message.offset;
        await this.deliverChunk(registration, topic, batch.partition, items, resolveOffset, beat);
        handled = true;
      }
      await beat();
    };
    try {
      for (const message of batch.messages) {
        if (!isRunning() || isStale()) break;
        const record = this.recordContext(topic, batch.partition, message);
        let envelope: EventEnvelope;
        try {
          envelope = decodeEvent(registration.spec, message.value, message.headers);
        } catch (error) {
          await flush();
          const reason = error instanceof ContractViolation ? error.reason : 'decode-failed';
          pending = message.offset;
          await this.deadLetter(message, record, reason, describeError(error));
          resolveOffset(message.offset);
          continue;
        }
        chunk.push({ message, record, envelope });
        if (chunk.length >= maxBatchSize) await flush();
      }
      // Also on stop: the records already collected are finished, as the per-record path finishes its record.
      await flush();
    } catch (error) {
      // A rebalance reported by heartbeat() is a retriable Kafka error too, but it belongs to kafkajs.
      if (error instanceof HeartbeatFailure) throw error.cause;
      if (!isInfrastructureError(error)) throw error;
      this.waitForInfrastructure(topic, batch.topic, batch.partition, pending ?? '?', error);
      await commitOffsetsIfNecessary();
      return;
    }
    if (handled) this.recovered(batch.topic, batch.partition);
    await commitOffsetsIfNecessary();
  }

  /** Resolves each record's offset once it is finished (all at once when the batch handler succeeds). */
  private async deliverChunk(
    registration: Registration,
    topic: string,
    partition: number,
    items: Decoded[],
    resolveOffset: (offset: string) => void,
    heartbeat: Heartbeat,
  ): Promise<void> {
    // One span per call, linked to each record's producer span (a batch has many parents).
    const links = items
      .map((item) => trace.getSpanContext(extractTraceContext(item.record.headers)))
      .filter((ctx): ctx is NonNullable<typeof ctx> => ctx !== undefined)
      .slice(0, 128)
      .map((ctx) => ({ context: ctx }));
    const span = tracer.startSpan(`process ${prefixed(this.options, topic)}`, {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.destination.name': prefixed(this.options, topic),
        'messaging.kafka.partition': partition,
        'messaging.batch.message_count': items.length,
        'messaging.consumer.group.name': this.host.groupId,
      },
    });
    const timer = batchSeconds.startTimer({ topic, group: this.host.groupId });
    try {
      await keepAlive(heartbeat, () =>
        context.with(trace.setSpan(context.active(), span), () =>
          registration.batch!.handle(items.map(({ envelope, record }) => ({ envelope, record }))),
        ),
      );
      consumed.inc({ topic, group: this.host.groupId, outcome: 'ok' }, items.length);
      resolveOffset(items[items.length - 1].message.offset);
      return;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(error) });
      span.recordException(error as Error);
      // The database or broker is away: replaying record by record would only fail each one.
      if (isInfrastructureError(error)) throw error;
      batchFallbacks.inc({ topic, group: this.host.groupId });
      this.log.warn(
        { topic, partition, records: items.length, err: describeError(error) },
        'batch handler failed; replaying the batch record by record',
      );
    } finally {
      timer();
      span.end();
    }
    // Isolate the failure: each record alone, with the per-record retry and DLQ rules.
    for (const item of items) {
      await this.handle(topic, partition, item.message, heartbeat, item.envelope);
      resolveOffset(item.message.offset);
      await heartbeat();
    }
  }

  /**
   * PostgreSQL or Kafka is unavailable: the record at `offset` stays unresolved and the partition
   * pauses, with a growing backoff, so the same record (and the ones after it, in order) is fetched
   * again when it resumes. Nothing is retried through the retry topic or dead-lettered for it.
   */
  private waitForInfrastructure(topic: string, prefixedTopic: string, partition: number, offset: string, error: unknown): void {
    const key = `${prefixedTopic}/${partition}`;
    const waits = (this.outages.get(key) ?? 0) + 1;
    this.outages.set(key, waits);
    waitingPartitions.set({ group: this.host.groupId }, this.outages.size);
    infrastructureWaits.inc({ topic, group: this.host.groupId });
    const { initialMs, maxMs } = this.infraBackoff;
    const delayMs = Math.round(Math.min(maxMs, initialMs * 2 ** Math.min(waits - 1, 20)) * (0.75 + Math.random() * 0.5));
    this.log.warn(
      { topic, partition, offset, waits, delayMs, err: describeError(error) },
      'infrastructure unavailable; partition paused, the record will be tried again',
    );
    this.pauseFor(prefixedTopic, partition, delayMs);
  }

  private recovered(prefixedTopic: string, partition: number): void {
    const key = `${prefixedTopic}/${partition}`;
    const waits = this.outages.get(key);
    if (waits === undefined) return;
    this.outages.delete(key);
    waitingPartitions.set({ group: this.host.groupId }, this.outages.size);
    this.log.warn({ topic: unprefixed(this.options, prefixedTopic), partition, waits }, 'infrastructure back; partition resumed');
  }

  private pauseFor(topic: string, partition: number, ms: number): void {
    this.consumer.pause([{ topic, partitions: [partition] }]);
    const timer = setTimeout(
      () => {
        this.resumeTimers.delete(timer);
        if (this.running) this.consumer.resume([{ topic, partitions: [partition] }]);
      },
      Math.min(ms, 5 * 60000),
    );
    this.resumeTimers.add(timer);
  }

  private recordContext(topic: string, partition: number, message: KafkaMessage): RecordContext {
    const headers = stringHeaders(message);
    const fromRetry = topic === this.retryTopic;
    return {
      topic: fromRetry ? (headers[RETRY_HEADERS.originalTopic] ?? '') : topic,
      partition: fromRetry ? Number(headers[RETRY_HEADERS.originalPartition]) : partition,
      offset: fromRetry ? (headers[RETRY_HEADERS.originalOffset] ?? message.offset) : message.offset,
      key: message.key?.toString() ?? null,
      headers,
      attempt: fromRetry ? Number(headers[RETRY_HEADERS.attempt] ?? 1) + 1 : 1,
    };
  }

  /** One record: decode (unless the batch path already did), handle with retries, or dead-letter. */
  private async handle(
    topic: string,
    partition: number,
    message: KafkaMessage,
    heartbeat: Heartbeat,
    decoded?: EventEnvelope,
  ): Promise<void> {
    const record = this.recordContext(topic, partition, message);
    const logicalTopic = record.topic;
    const headers = record.headers;
    const registration = this.handlers.get(logicalTopic);
    if (!registration) {
      await this.deadLetter(message, record, 'no-handler', `no handler for ${logicalTopic} in ${this.host.groupId}`);
      return;
    }

    const parent = extractTraceContext(headers);
    const span = startConsumerSpan(prefixed(this.options, logicalTopic), parent, {
      'messaging.kafka.partition': record.partition,
      'messaging.kafka.offset': record.offset,
      'messaging.consumer.group.name': this.host.groupId,
    });
    const timer = handlerSeconds.startTimer({ topic: logicalTopic, group: this.host.groupId });
    try {
      await context.with(trace.setSpan(parent, span), () => this.deliver(registration, message, record, heartbeat, decoded));
    } finally {
      timer();
      span.end();
    }
  }

  /** Throws infrastructure errors (the caller pauses the partition); settles everything else. */
  private async deliver(
    registration: Registration,
    message: KafkaMessage,
    record: RecordContext,
    heartbeat: Heartbeat,
    decoded?: EventEnvelope,
  ): Promise<void> {
    const span = trace.getActiveSpan();
    let envelope: EventEnvelope;
    try {
      envelope = decoded ?? decodeEvent(registration.spec, message.value, message.headers);
    } catch (error) {
      const reason = error instanceof ContractViolation ? error.reason : 'decode-failed';
      span?.setStatus({ code: SpanStatusCode.ERROR, message: reason });
      await this.deadLetter(message, record, reason, describeError(error));
      return;
    }

    let lastError: unknown;
    let kind: FailureKind = 'retriable';
    for (let i = 0; i < this.retry.inlineAttempts; i++) {
      try {
        await keepAlive(heartbeat, () => registration.handle(envelope, record));
        consumed.inc({ topic: record.topic, group: this.host.groupId, outcome: 'ok' });
        return;
      } catch (error) {
        lastError = error;
        kind = classifyFailure(error);
        if (kind !== 'retriable') break;
        if (i + 1 < this.retry.inlineAttempts) await sleep(this.retry.inlineBackoffMs * 2 ** i * (0.5 + Math.random()));
      }
    }
    span?.setStatus({ code: SpanStatusCode.ERROR, message: describeError(lastError) });
    span?.recordException(lastError as Error);
    // Not the record's fault: it keeps its retry budget and waits in place for the dependency.
    if (kind === 'infrastructure') throw lastError;

    const passes = record.attempt - 1;
    if (kind === 'non-retriable') {
      await this.deadLetter(message, record, 'non-retriable', describeError(lastError));
    } else if (passes < this.retry.retryDelaysMs.length) {
      await this.scheduleRetry(message, record, this.retry.retryDelaysMs[passes], lastError);
    } else {
      await this.deadLetter(message, record, 'retries-exhausted', describeError(lastError));
    }
  }

  private forwardHeaders(record: RecordContext, error: string): Record<string, string> {
    const headers = { ...record.headers };
    delete headers.traceparent;
    delete headers.tracestate;
    return {
      ...headers,
      [RETRY_HEADERS.originalTopic]: record.topic,
      [RETRY_HEADERS.originalPartition]: String(record.partition),
      [RETRY_HEADERS.originalOffset]: record.offset,
      [RETRY_HEADERS.attempt]: String(record.attempt),
      [RETRY_HEADERS.firstFailedAt]: record.headers[RETRY_HEADERS.firstFailedAt] ?? new Date().toISOString(),
      [RETRY_HEADERS.error]: error.slice(0, 2000),
      [RETRY_HEADERS.group]: this.host.groupId,
    };
  }

  private async scheduleRetry(message: KafkaMessage, record: RecordContext, delayMs: number, error: unknown): Promise<void> {
    consumed.inc({ topic: record.topic, group: this.host.groupId, outcome: 'retry' });
    this.log.warn(
      { topic: record.topic, offset: record.offset, attempt: record.attempt, delayMs, err: describeError(error) },
      'handler failed; retrying later',
    );
    await this.producer.send([
      {
        topic: this.retryTopic,
        key: message.key?.toString() ?? null,
        value: message.value,
        headers: { ...this.forwardHeaders(record, describeError(error)), [RETRY_HEADERS.notBefore]: String(Date.now() + delayMs) },
      },
    ]);
  }

  private async deadLetter(message: KafkaMessage, record: RecordContext, reason: string, error: string): Promise<void> {
    consumed.inc({ topic: record.topic, group: this.host.groupId, outcome: `dlq:${reason}` });
    this.log.error({ topic: record.topic, partition: record.partition, offset: record.offset, reason, err: error }, 'record dead-lettered');
    const headers = this.forwardHeaders(record, error);
    delete headers[RETRY_HEADERS.notBefore];
    await this.producer.send([
      {
        topic: this.dlqTopic,
        key: message.key?.toString() ?? null,
        value: message.value,
        headers: { ...headers, [RETRY_HEADERS.reason]: reason },
      },
    ]);
    for (const listener of this.deadLetterListeners) {
      try {
        listener({ topic: record.topic, reason, error, headers: record.headers, key: record.key });
      } catch (listenerError) {
        this.log.warn({ err: describeError(listenerError) }, 'dead-letter listener failed');
      }
    }
  }
}
