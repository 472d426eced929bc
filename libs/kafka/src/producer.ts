import { context, ROOT_CONTEXT, SpanStatusCode, trace, type Context } from '@opentelemetry/api';
import type { Kafka } from 'kafkajs';
import { encodeEvent, type EncodeOptions, type TopicSpec } from '@wa/contracts';
import { counter } from '@wa/observability';
import { prefixed, type KafkaOptions } from './kafka-options';
import { KafkajsWire, PlatformaticWire, type ProduceWire, type WireMessage } from './produce-wire';
import { injectTraceContext, startProducerSpan } from './trace-context';

export interface OutgoingRecord {
  /** Unprefixed topic name (as in the contracts registry or a derived retry/DLQ name). */
  topic: string;
  key: string | null;
  value: string | Buffer | null;
  headers: Record<string, string>;
  /** Trace context the record belongs to; defaults to the caller's active context. */
  parent?: Context;
}

interface Pending {
  record: OutgoingRecord;
  parent: Context;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface ProducerTuning {
  /** Records per produce request; concurrent callers are merged up to this size. */
  maxBatchRecords?: number;
  /**
   * Approximate bytes per produce request. The broker refuses a partition's record batch above the
   * topic's max.message.bytes (1 MB by default) and fails the whole request, so merged callers (or an
   * outbox batch of one citizen's messages) must not add up past it. A single larger record still
   * goes alone, for topics configured to take it.
   */
  maxBatchBytes?: number;
  /** Broker ack timeout per request. */
  requestTimeoutMs?: number;
  /**
   * Produce requests allowed in flight at once. 1 (the default) keeps the producer idempotent: no
   * duplicates from retries and per-partition order. More turns idempotence off (kafkajs serialises
   * an idempotent producer's requests per broker), so a retried request may duplicate or reorder
   * records: only for topics whose consumers deduplicate by event id and need no order, such as
   * the raw webhook topic, where the wait for acks=all otherwise caps an HTTP edge's throughput.
   */
  maxInFlightRequests?: number;
  /**
   * The client library on the wire. kafkajs (the default) is idempotent with one request in flight;
   * platformatic costs about half the CPU per record (bench:kafka) and is never idempotent (see
   * PlatformaticWire): for an edge whose throughput is the producer's CPU and whose consumers dedupe.
   */
  client?: 'kafkajs' | 'platformatic';
}

/** A record's size on the wire, about: UTF-8 bytes of key, value and headers plus Kafka's per-record overhead. */
function exactSize(record: OutgoingRecord): number {
  let size = 64 + (record.key === null ? 0 : Buffer.byteLength(record.key)) + (record.value === null ? 0 : Buffer.byteLength(record.value));
  for (const name in record.headers) size += Buffer.byteLength(name) + Buffer.byteLength(record.headers[name]) + 8;
  return size;
}

/** At least exactSize, without encoding anything. */
function sizeBound(record: OutgoingRecord): number {
  const value = record.value;
  let size = 64 + (record.key?.length ?? 0) * 3 + (value === null ? 0 : typeof value === 'string' ? value.length * 3 : value.length);
  for (const name in record.headers) size += (name.length + record.headers[name].length) * 3 + 8;
  return size;
}

const produced = counter('kafka_produced_records_total', 'Records acknowledged by all in-sync replicas', ['topic']);
const produceFailures = counter('kafka_produce_failures_total', 'Produce requests that failed', ['topic']);

/**
 * acks=all producer, idempotent with one request in flight by default (retries cannot duplicate or
 * reorder). Calls made while the in-flight requests are busy are merged into the next request: under
 * load that is one produce per batch of callers instead of one per caller, with no added latency
 * when idle.
 */
export class EventProducer {
  private readonly wire: ProduceWire;
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;
  private connected = false;
  private readonly maxInFlight: number;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;

  constructor(
    kafka: Kafka,
    private readonly options: KafkaOptions,
    private readonly source: string,
    tuning: ProducerTuning = {},
  ) {
    this.maxInFlight = Math.max(1, tuning.maxInFlightRequests ?? 1);
    this.maxBatch = tuning.maxBatchRecords ?? 1000;
    this.maxBatchBytes = tuning.maxBatchBytes ?? 900 * 1024;
    const settings = { maxInFlightRequests: this.maxInFlight, requestTimeoutMs: tuning.requestTimeoutMs ?? 30000 };
    this.wire = tuning.client === 'platformatic' ? new PlatformaticWire(options, settings) : new KafkajsWire(kafka, settings);
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.wire.connect();
    this.connected = true;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async disconnect(): Promise<void> {
    while (this.scheduled || this.inFlight || this.queue.length) await new Promise((r) => setTimeout(r, 5));
    if (this.connected) await this.wire.disconnect();
    this.connected = false;
  }

  /**
   * Validates, wraps in a CloudEvents envelope and publishes; resolves once all replicas have it.
   * `parent` is the trace the record belongs to, when it is not the active context.
   */
  publish<T extends object & { tenantId: string }>(
    spec: TopicSpec<T>,
    data: T,
    options: Partial<EncodeOptions> = {},
    parent?: Context,
  ): Promise<void> {
    const encoded = encodeEvent(spec, data, { source: this.source, ...options });
    return this.send([{ topic: spec.name, key: encoded.key, value: encoded.value, headers: encoded.headers, parent }]);
  }

  /** Sends prepared records (DLQ/retry forwarding, outbox relay). Same batching and acks as publish. */
  send(records: OutgoingRecord[]): Promise<void> {
    const active = context.active();
    const acks = records.map(
      (record) =>
        new Promise<void>((resolve, reject) => {
          this.queue.push({ record, parent: record.parent ?? active ?? ROOT_CONTEXT, resolve, reject });
        }),
    );
    this.schedule();
    // One record (every publish) needs no Promise.all around its own promise.
    return acks.length === 1 ? acks[0] : Promise.all(acks).then(() => undefined);
  }

  // Sent on the next tick so callers in the same tick share a request.
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length && this.inFlight < this.maxInFlight) {
      const batch = this.queue.splice(0, this.batchLength());
      this.inFlight++;
      void this.sendBatch(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length) this.schedule();
      });
    }
  }

  /**
   * How many queued records fit in the next request (at least one). Sizes are first bounded
   * cheaply (a string's UTF-8 size is at most three bytes per UTF-16 unit); only a batch whose
   * bound could pass the limit is counted exactly, once (a busy edge's batches stay far below it).
   */
  private batchLength(): number {
    let bytes = 0;
    let count = 0;
    let exact = false;
    for (const { record } of this.queue) {
      if (count === this.maxBatch) break;
      let size = exact ? exactSize(record) : sizeBound(record);
      if (!exact && bytes + size > this.maxBatchBytes) {
        exact = true;
        bytes = 0;
        for (let i = 0; i < count; i++) bytes += exactSize(this.queue[i].record);
        size = exactSize(record);
      }
      if (count > 0 && bytes + size > this.maxBatchBytes) break;
      bytes += size;
      count++;
    }
    return count;
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, WireMessage[]>();
    const spans = batch.map((p) => {
      const topic = prefixed(this.options, p.record.topic);
      const span = startProducerSpan(topic, p.parent);
      const headers = { ...p.record.headers };
      injectTraceContext(headers, trace.setSpan(p.parent, span));
      const list = byTopic.get(topic) ?? [];
      list.push({ key: p.record.key, value: p.record.value, headers });
      byTopic.set(topic, list);
      return span;
    });
    try {
      await this.wire.send([...byTopic].map(([topic, messages]) => ({ topic, messages })));
      for (const [topic, messages] of byTopic) produced.inc({ topic }, messages.length);
      spans.forEach((s) => s.end());
      batch.forEach((p) => p.resolve());
    } catch (error) {
      for (const topic of byTopic.keys()) produceFailures.inc({ topic });
      spans.forEach((s) => {
        s.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        s.end();
      });
      batch.forEach((p) => p.reject(error));
    }
  }
}
