import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import pino, { type Logger } from 'pino';
import { ContractViolation, decodeEvent, headerString, type EventEnvelope, type TopicSpec } from '@wa/contracts';
import { counter, gauge, histogram } from '@wa/observability';
import { describeError, isRetriable } from './errors';
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

export interface ConsumerHostOptions {
  groupId: string;
  /** Partitions processed in parallel; order within a partition (so per key) is always kept. */
  partitionsConsumedConcurrently?: number;
  retry?: Partial<RetryPolicy>;
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

const lagGauge = gauge('kafka_consumer_lag', 'Records not yet committed by the group, per partition', ['topic', 'group', 'partition']);
const consumed = counter('kafka_consumed_records_total', 'Records handled, by outcome', ['topic', 'group', 'outcome']);
const handlerSeconds = histogram('kafka_handler_duration_seconds', 'Handler time per record', ['topic', 'group']);
const batchSeconds = histogram('kafka_batch_handler_duration_seconds', 'Batch handler time per call', ['topic', 'group']);
const batchFallbacks = counter('kafka_batch_fallbacks_total', 'Batches replayed record by record after the batch handler failed', [
  'topic',
  'group',
]);
const tracer = trace.getTracer('@wa/kafka');

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

/**
 * Runs the handlers of one consumer group. Per partition it is strictly sequential, so one key's
 * records are handled in order; failures never block a partition: after a few in-place tries a
 * record moves to the group's retry topic (due later), and after the last retry to the group's
 * DLQ with headers saying why. Records that can never succeed (invalid, unknown type) go straight
 * to the DLQ.
 */
export class ConsumerHost {
  private readonly consumer: Consumer;
  private readonly handlers = new Map<string, Registration>();
  private readonly deadLetterListeners: DeadLetterListener[] = [];
  private readonly retry: RetryPolicy;
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
      heartbeatInterval: 3000,
      allowAutoTopicCreation: false,
      // Above the largest record any topic accepts, or the consumer could stick on one record.
      maxBytesPerPartition: 10 * 1024 * 1024,
    });
    this.retry = { ...DEFAULT_RETRY, ...host.retry };
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
      await this.handle(topic, batch.partition, message);
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
    let lastOffset: string | undefined;
    const flush = async () => {
      if (chunk.length) {
        const items = chunk;
        chunk = [];
        await this.deliverChunk(registration, topic, batch.partition, items);
      }
      if (lastOffset !== undefined) resolveOffset(lastOffset);
      lastOffset = undefined;
      await heartbeat();
    };
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) break;
      const record = this.recordContext(topic, batch.partition, message);
      let envelope: EventEnvelope;
      try {
        envelope = decodeEvent(registration.spec, message.value, message.headers);
      } catch (error) {
        await flush();
        const reason = error instanceof ContractViolation ? error.reason : 'decode-failed';
        await this.deadLetter(message, record, reason, describeError(error));
        resolveOffset(message.offset);
        continue;
      }
      chunk.push({ message, record, envelope });
      lastOffset = message.offset;
      if (chunk.length >= maxBatchSize) await flush();
    }
    // Also on stop: the records already collected are finished, as the per-record path finishes its record.
    await flush();
    await commitOffsetsIfNecessary();
  }

  private async deliverChunk(registration: Registration, topic: string, partition: number, items: Decoded[]): Promise<void> {
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
      await context.with(trace.setSpan(context.active(), span), () =>
        registration.batch!.handle(items.map(({ envelope, record }) => ({ envelope, record }))),
      );
      consumed.inc({ topic, group: this.host.groupId, outcome: 'ok' }, items.length);
      return;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(error) });
      span.recordException(error as Error);
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
    for (const item of items) await this.handle(topic, partition, item.message, item.envelope);
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
  private async handle(topic: string, partition: number, message: KafkaMessage, decoded?: EventEnvelope): Promise<void> {
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
      await context.with(trace.setSpan(parent, span), () => this.deliver(registration, message, record, decoded));
    } finally {
      timer();
      span.end();
    }
  }

  private async deliver(registration: Registration, message: KafkaMessage, record: RecordContext, decoded?: EventEnvelope): Promise<void> {
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
    for (let i = 0; i < this.retry.inlineAttempts; i++) {
      try {
        await registration.handle(envelope, record);
        consumed.inc({ topic: record.topic, group: this.host.groupId, outcome: 'ok' });
        return;
      } catch (error) {
        lastError = error;
        if (!isRetriable(error)) break;
        if (i + 1 < this.retry.inlineAttempts) await sleep(this.retry.inlineBackoffMs * 2 ** i * (0.5 + Math.random()));
      }
    }
    span?.setStatus({ code: SpanStatusCode.ERROR, message: describeError(lastError) });
    span?.recordException(lastError as Error);

    const passes = record.attempt - 1;
    if (!isRetriable(lastError)) {
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
