import { murmur2, ProduceAcks, Producer as PlatformaticProducer, type MessageToProduce } from '@platformatic/kafka';
import { Partitioners, type Kafka, type Producer as KafkajsProducer } from 'kafkajs';
import { CE } from '@wa/contracts';
import type { KafkaOptions } from './kafka-options';
import { installTaggedFieldsReader } from './platformatic-tagged-fields';

export interface WireMessage {
  key: string | null;
  value: string | Buffer | null;
  headers: Record<string, string>;
}

/** Records for one (already prefixed) topic. */
export interface TopicMessages {
  topic: string;
  messages: WireMessage[];
}

/**
 * The client library under EventProducer: puts one acks=all produce request on the wire and
 * resolves when every in-sync replica has it. EventProducer keeps the batching, envelopes, spans
 * and metrics, so both clients behave the same to callers.
 */
export interface ProduceWire {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(batch: TopicMessages[]): Promise<void>;
}

export interface WireSettings {
  /** Produce requests allowed in flight at once; idempotent only with 1. */
  maxInFlightRequests: number;
  requestTimeoutMs: number;
}

/** kafkajs: idempotent with one request in flight, the client every other path uses. */
export class KafkajsWire implements ProduceWire {
  private readonly producer: KafkajsProducer;

  constructor(
    kafka: Kafka,
    private readonly settings: WireSettings,
  ) {
    // The Java-compatible (murmur2) partitioner: agency systems producing with the Java client put
    // the same key on the same partition as we do.
    this.producer = kafka.producer({
      idempotent: settings.maxInFlightRequests === 1,
      maxInFlightRequests: settings.maxInFlightRequests,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  async send(batch: TopicMessages[]): Promise<void> {
    await this.producer.sendBatch({ acks: -1, timeout: this.settings.requestTimeoutMs, topicMessages: batch });
  }
}

type PlatformaticMessage = MessageToProduce<string | null, string | Buffer | null, Buffer, Buffer>;

// Strings become UTF-8 bytes; Buffers (outbox payloads, prepared headers) go as they are; null stays absent.
const toBytes = (value: string | Buffer | null | undefined): Buffer | undefined =>
  value === null || value === undefined ? undefined : typeof value === 'string' ? Buffer.from(value, 'utf8') : value;

/** Headers whose values repeat from record to record (the envelope's constants and the tenant). */
const REPEATING_HEADERS = new Set<string>([CE.specversion, CE.type, CE.source, CE.tenant, CE.contentType]);

/**
 * Header names and repeating header values as bytes, encoded once: a record carries eight or so
 * headers, and encoding each name and value per record was most of the client's per-record
 * allocations. Bounded, so an unexpected variety of values cannot grow it without limit.
 */
class HeaderBytes {
  private static readonly LIMIT = 4096;
  private readonly names = new Map<string, Buffer>();
  private readonly values = new Map<string, Map<string, Buffer>>();
  private size = 0;

  toMap(headers: Record<string, string>): Map<Buffer, Buffer> {
    const bytes = new Map<Buffer, Buffer>();
    for (const name in headers) {
      const value = headers[name];
      bytes.set(this.cached(this.names, name), REPEATING_HEADERS.has(name) ? this.valueOf(name, value) : Buffer.from(value, 'utf8'));
    }
    return bytes;
  }

  private valueOf(name: string, value: string): Buffer {
    let known = this.values.get(name);
    if (!known) this.values.set(name, (known = new Map()));
    return this.cached(known, value);
  }

  private cached(map: Map<string, Buffer>, text: string): Buffer {
    const hit = map.get(text);
    if (hit) return hit;
    const bytes = Buffer.from(text, 'utf8');
    if (this.size < HeaderBytes.LIMIT) {
      map.set(text, bytes);
      this.size++;
    }
    return bytes;
  }
}

/**
 * Java's partitioner for keyed records: positive murmur2 of the key, modulo the partition count (the library applies
 * the modulo). The library's own keyed default takes the hash unsigned instead of masking the sign
 * bit, which lands some keys on other partitions than the Java client and kafkajs. Unkeyed records go round-robin.
 */
function javaCompatiblePartitioner(): (message: PlatformaticMessage) => number {
  let unkeyed = 0;
  // murmur2's own cache (by key string) spares the hash for the keys that repeat (tenant:app on the raw topic).
  return (message) => (message.key === null || message.key === undefined ? unkeyed++ : murmur2(message.key, true) & 0x7fffffff);
}

/**
 * @platformatic/kafka: about half of kafkajs's CPU per record through EventProducer (medians
 * 0.43-0.57 in `npm run bench:kafka`'s edge rounds; the client alone about a third), for the one hot
 * edge whose throughput is the producer's CPU, the webhook receiver. Not idempotent: callers must
 * tolerate a retried request's duplicate (the raw webhook topic's consumers dedupe by event id).
 * The 1.x line is the one that installs on Node 20 (2.x and 1.27+ need Node 22).
 */
export class PlatformaticWire implements ProduceWire {
  private readonly producer: PlatformaticProducer<string | null, string | Buffer | null, Buffer, Buffer>;
  private readonly headerBytes = new HeaderBytes();

  constructor(options: KafkaOptions, settings: WireSettings) {
    installTaggedFieldsReader();
    this.producer = new PlatformaticProducer({
      clientId: options.clientId,
      bootstrapBrokers: options.brokers,
      acks: ProduceAcks.ALL,
      idempotent: false,
      autocreateTopics: false,
      maxInflights: settings.maxInFlightRequests,
      timeout: settings.requestTimeoutMs,
      // Bounded like kafkajs's (createKafka): a caller must see a down broker within seconds.
      retries: 3,
      retryDelay: 200,
      partitioner: javaCompatiblePartitioner(),
      serializers: { key: toBytes, value: toBytes, headerKey: toBytes, headerValue: toBytes },
    });
  }

  async connect(): Promise<void> {
    // The client connects lazily; asking for the cluster's metadata proves the brokers answer.
    await this.producer.metadata({ topics: [] });
  }

  disconnect(): Promise<void> {
    return this.producer.close();
  }

  async send(batch: TopicMessages[]): Promise<void> {
    const messages: PlatformaticMessage[] = [];
    for (const { topic, messages: records } of batch) {
      for (const { key, value, headers } of records) messages.push({ topic, key, value, headers: this.headerBytes.toMap(headers) });
    }
    await this.producer.send({ messages });
  }
}
