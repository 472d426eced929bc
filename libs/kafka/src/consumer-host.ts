import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import pino, { type Logger } from 'pino';
import { ContractViolation, decodeEvent, headerString, type EventEnvelope, type TopicSpec } from '@wa/contracts';
import { counter, histogram } from '@wa/observability';
import { describeError, isRetriable } from './errors';
import { prefixed, unprefixed, type KafkaOptions } from './kafka-options';
import type { EventProducer } from './producer';
import { ensureTopics } from './topic-admin';
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

const consumed = counter('kafka_consumed_records_total', 'Records handled, by outcome', ['topic', 'group', 'outcome']);
const handlerSeconds = histogram('kafka_handler_duration_seconds', 'Handler time per record', ['topic', 'group']);

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
  private readonly handlers = new Map<string, { spec: TopicSpec; handle: EventHandler }>();
  private readonly retry: RetryPolicy;
  private readonly log: Logger;
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private readonly retryTopic: string;
  private readonly dlqTopic: string;
  private running = false;

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
      maxBytesPerPartition: 4 * 1024 * 1024,
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
    if (this.running) throw new Error('register handlers before start()');
    if (this.handlers.has(spec.name)) throw new Error(`${spec.name} already has a handler in ${this.host.groupId}`);
    this.handlers.set(spec.name, { spec, handle });
  }

  get topics(): string[] {
    return [...this.handlers.keys()];
  }

  async start(): Promise<void> {
    if (this.handlers.size === 0) return;
    await ensureTopics(this.kafka, this.options, [
      { name: this.retryTopic, partitions: 3, cleanupPolicy: 'delete', retentionMs: 7 * 86400000 },
      { name: this.dlqTopic, partitions: 1, cleanupPolicy: 'delete', retentionMs: 30 * 86400000 },
    ]);
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
    await this.consumer.disconnect();
  }

  private async eachBatch({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const topic = unprefixed(this.options, batch.topic);
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

  private async handle(topic: string, partition: number, message: KafkaMessage): Promise<void> {
    const headers = stringHeaders(message);
    const fromRetry = topic === this.retryTopic;
    const logicalTopic = fromRetry ? (headers[RETRY_HEADERS.originalTopic] ?? '') : topic;
    const attempt = fromRetry ? Number(headers[RETRY_HEADERS.attempt] ?? 1) + 1 : 1;
    const record: RecordContext = {
      topic: logicalTopic,
      partition: fromRetry ? Number(headers[RETRY_HEADERS.originalPartition]) : partition,
      offset: fromRetry ? (headers[RETRY_HEADERS.originalOffset] ?? message.offset) : message.offset,
      key: message.key?.toString() ?? null,
      headers,
      attempt,
    };
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
      await context.with(trace.setSpan(parent, span), () => this.deliver(registration, message, record));
    } finally {
      timer();
      span.end();
    }
  }

  private async deliver(
    registration: { spec: TopicSpec; handle: EventHandler },
    message: KafkaMessage,
    record: RecordContext,
  ): Promise<void> {
    const span = trace.getActiveSpan();
    let envelope: EventEnvelope;
    try {
      envelope = decodeEvent(registration.spec, message.value, message.headers);
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
  }
}
