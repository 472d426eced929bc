import type { MigrationInterface, QueryRunner } from 'typeorm';
import { addOutboxParking, createMessagingTables } from '@wa/kafka';
import { migrate } from '@wa/persistence';
import { createTestDatabase, createTestKafka, uniqueSuffix, type TestDatabase, type TestKafka } from '@wa/testing';
import { runTracedFixture, SpanKinds, type SpanLine } from './fixtures/traced-process';

const SCHEMA = 'tracetest';

class Tables1764115200000 implements MigrationInterface {
  name = 'Tables1764115200000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTables(queryRunner, SCHEMA);
    await addOutboxParking(queryRunner, SCHEMA);
  }
  async down(): Promise<void> {}
}

const { SERVER, PRODUCER, CONSUMER } = SpanKinds;

describe('one trace from an HTTP request through the outbox, Kafka and a consumer', () => {
  let db: TestDatabase;
  let tk: TestKafka;

  beforeAll(async () => {
    db = await createTestDatabase([SCHEMA]);
    await migrate({ schema: SCHEMA, url: db.migratorUrl(SCHEMA), entities: [], migrations: [Tables1764115200000] });
    tk = await createTestKafka('trace');
  });

  afterAll(async () => {
    await db.drop();
    await tk.cleanup();
  });

  it('parents the producer span on the request and the consumer span on the producer', async () => {
    const tenant = `trace-${uniqueSuffix()}`.slice(0, 30);
    const { spans } = await runTracedFixture('trace-pipeline.ts', {
      DATABASE_URL: db.appUrl(SCHEMA),
      KAFKA_BROKERS: tk.options.brokers[0],
      KAFKA_TOPIC_PREFIX: tk.prefix,
      TRACE_SCHEMA: SCHEMA,
      TRACE_TENANT: tenant,
    });
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const serverSpan = spans.find((s) => s.kind === SERVER);
    const producerSpan = spans.find((s) => s.kind === PRODUCER && s.name.endsWith('citizen.consent.v1'));
    const consumerSpan = spans.find((s) => s.kind === CONSUMER && s.name.endsWith('citizen.consent.v1'));
    expect(serverSpan).toBeDefined();
    expect(producerSpan).toBeDefined();
    expect(consumerSpan).toBeDefined();
    // Exactly one producer and one consumer span per record: nothing else re-wraps the send.
    expect(spans.filter((s) => s.kind === PRODUCER)).toHaveLength(1);

    // The producer span descends from the HTTP server span even though the relay sent it later.
    const ancestors = (span: SpanLine): string[] =>
      span.parent && byId.get(span.parent) ? [span.parent, ...ancestors(byId.get(span.parent)!)] : [];
    expect(ancestors(producerSpan!)).toContain(serverSpan!.spanId);
    expect(consumerSpan!.parent).toBe(producerSpan!.spanId);
    expect(new Set([serverSpan!.traceId, producerSpan!.traceId, consumerSpan!.traceId]).size).toBe(1);

    // Work done inside the handler (a pg query) belongs to the same trace, under the consumer span.
    const handlerQuery = spans.find((s) => s.parent === consumerSpan!.spanId);
    expect(handlerQuery?.traceId).toBe(serverSpan!.traceId);
  });
});
