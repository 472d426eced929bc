// Producer throughput of @wa/kafka's EventProducer vs raw kafkajs, in the same run, same broker,
// same producer settings (idempotent, acks=all, one request in flight). The lib does more per
// record (class-validator, CloudEvents headers, a span, trace context); this shows what it costs.
// Then the webhook edge's setting (4 requests in flight, not idempotent) on each client library
// the lib can use (kafkajs, @platformatic/kafka): records/s and this process's CPU per record.
// Usage: npm run bench:kafka [-- --records 100000 --window 1000 --rounds 3]
import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { Topics, type CitizenConsentV1 } from '@wa/contracts';
import {
  createKafka,
  deleteTopicsWithPrefix,
  EventProducer,
  ensureTopics,
  type Kafka,
  type KafkaOptions,
  type OutgoingRecord,
} from '@wa/kafka';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RECORDS = arg('records', 100000);
const WINDOW = arg('window', 1000);
const ROUNDS = arg('rounds', 3);

const payload = (i: number): CitizenConsentV1 =>
  ({
    tenantId: 'roads-agency',
    contact: { waId: `5730${String(i % 50000).padStart(7, '0')}` },
    category: 'utility',
    state: i % 3 ? 'opted_in' : 'opted_out',
    channel: 'web',
    wording: 'I agree to receive reminders about my documents from the National Roads Agency on WhatsApp.',
    occurredAt: new Date().toISOString(),
  }) as CitizenConsentV1;

/** A record as the outbox relay and retry/DLQ forwarding hand it over: already encoded. */
function preparedRecord(i: number): OutgoingRecord {
  const data = payload(i);
  return {
    topic: Topics.citizenConsent.name,
    key: `${data.tenantId}:${data.contact.waId}`,
    value: JSON.stringify(data),
    headers: { ce_id: randomUUID(), ce_type: 'citizen.consent.v1', ce_source: '/bench', ce_tenant: data.tenantId },
  };
}

async function rawKafkajs(kafka: Kafka, topic: string): Promise<number> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const started = process.hrtime.bigint();
  for (let sent = 0; sent < RECORDS; sent += WINDOW) {
    const messages = Array.from({ length: Math.min(WINDOW, RECORDS - sent) }, (_, j) => {
      const data = payload(sent + j);
      return {
        key: `${data.tenantId}:${data.contact.waId}`,
        value: JSON.stringify(data),
        headers: { ce_id: randomUUID(), ce_type: 'citizen.consent.v1', ce_source: '/bench', ce_tenant: data.tenantId },
      };
    });
    await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await producer.disconnect();
  return RECORDS / seconds;
}

/** Prepared records through EventProducer.send: the path of the outbox relay and of retry/DLQ forwarding. */
async function viaLibSend(kafka: Kafka, options: KafkaOptions): Promise<number> {
  const producer = new EventProducer(kafka, options, '/bench', { maxBatchRecords: WINDOW });
  await producer.connect();
  const started = process.hrtime.bigint();
  for (let sent = 0; sent < RECORDS; sent += WINDOW) {
    await Promise.all(
      Array.from({ length: Math.min(WINDOW, RECORDS - sent) }, (_, j) => {
        return producer.send([preparedRecord(sent + j)]);
      }),
    );
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await producer.disconnect();
  return RECORDS / seconds;
}

/** The webhook edge's producer setting on one client library: rate and CPU per record. */
async function edgeSend(kafka: Kafka, options: KafkaOptions, client: 'kafkajs' | 'platformatic'): Promise<{ rate: number; cpuUs: number }> {
  const producer = new EventProducer(kafka, options, '/bench', { maxBatchRecords: WINDOW, maxInFlightRequests: 4, client });
  await producer.connect();
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  let next = 0;
  // 64 callers each awaiting its own record, as 64 concurrent webhook requests do.
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (let i = next++; i < RECORDS; i = next++) {
        await producer.send([preparedRecord(i)]);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  await producer.disconnect();
  return { rate: RECORDS / seconds, cpuUs: (used.user + used.system) / RECORDS };
}

/** EventProducer.publish: also validates each payload against its contract class and builds the envelope. */
async function viaLib(kafka: Kafka, options: KafkaOptions): Promise<number> {
  const producer = new EventProducer(kafka, options, '/bench', { maxBatchRecords: WINDOW });
  await producer.connect();
  const started = process.hrtime.bigint();
  for (let sent = 0; sent < RECORDS; sent += WINDOW) {
    // A window of concurrent callers, as a busy service produces: the lib merges them into requests.
    await Promise.all(
      Array.from({ length: Math.min(WINDOW, RECORDS - sent) }, (_, j) => producer.publish(Topics.citizenConsent, payload(sent + j))),
    );
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await producer.disconnect();
  return RECORDS / seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const prefix = `bench.${Date.now()}.`;
  const options: KafkaOptions = {
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    clientId: 'bench',
    topicPrefix: prefix,
  };
  const kafka = createKafka(options);
  await ensureTopics(kafka, options, [{ name: Topics.citizenConsent.name, partitions: 6, cleanupPolicy: 'delete', retentionMs: 3600000 }]);
  const topic = `${prefix}${Topics.citizenConsent.name}`;
  console.log(`records per run: ${RECORDS}, concurrent window: ${WINDOW}, rounds: ${ROUNDS} (interleaved)`);
  await rawKafkajs(kafka, topic); // warm-up: connections, metadata, JIT
  const raw: number[] = [];
  const send: number[] = [];
  const lib: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    raw.push(await rawKafkajs(kafka, topic));
    send.push(await viaLibSend(kafka, options));
    lib.push(await viaLib(kafka, options));
    console.log(
      `round ${round}: raw kafkajs ${raw.at(-1)!.toFixed(0)} rec/s | @wa/kafka send ${send.at(-1)!.toFixed(0)} rec/s | @wa/kafka publish (validated) ${lib.at(-1)!.toFixed(0)} rec/s`,
    );
  }
  const ratio = (xs: number[]) => xs.map((x, i) => x / raw[i]);
  console.log(`\nmedian raw kafkajs:                 ${median(raw).toFixed(0)} records/s`);
  console.log(`median @wa/kafka send:              ${median(send).toFixed(0)} records/s`);
  console.log(`median @wa/kafka publish+validate:  ${median(lib).toFixed(0)} records/s`);
  console.log(
    `ratio send/raw:    median ${median(ratio(send)).toFixed(2)} (per round ${ratio(send)
      .map((r) => r.toFixed(2))
      .join(', ')}; goal >= 0.8)`,
  );
  console.log(
    `ratio publish/raw: median ${median(ratio(lib)).toFixed(2)} (per round ${ratio(lib)
      .map((r) => r.toFixed(2))
      .join(', ')}; class-validator costs ~20 us/record)`,
  );

  const edge: Record<'kafkajs' | 'platformatic', { rate: number; cpuUs: number }[]> = { kafkajs: [], platformatic: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const client of ['kafkajs', 'platformatic'] as const) edge[client].push(await edgeSend(kafka, options, client));
    const [k, p] = [edge.kafkajs.at(-1)!, edge.platformatic.at(-1)!];
    console.log(
      `edge round ${round}: kafkajs ${k.rate.toFixed(0)} rec/s, ${k.cpuUs.toFixed(1)} µs CPU/record | platformatic ${p.rate.toFixed(0)} rec/s, ${p.cpuUs.toFixed(1)} µs CPU/record`,
    );
  }
  const cpuRatios = edge.platformatic.map((p, i) => p.cpuUs / edge.kafkajs[i].cpuUs);
  console.log(
    `\nwebhook edge setting (64 callers, 4 requests in flight): CPU per record platformatic/kafkajs median ${median(cpuRatios).toFixed(2)} ` +
      `(per round ${cpuRatios.map((r) => r.toFixed(2)).join(', ')}); rate platformatic/kafkajs median ` +
      `${median(edge.platformatic.map((p, i) => p.rate / edge.kafkajs[i].rate)).toFixed(2)}`,
  );
  await deleteTopicsWithPrefix(kafka, prefix);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
