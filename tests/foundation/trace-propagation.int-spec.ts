import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createMessagingTables } from '@wa/kafka';
import { migrate } from '@wa/persistence';
import { createTestDatabase, createTestKafka, uniqueSuffix, type TestDatabase, type TestKafka } from '@wa/testing';

const SCHEMA = 'tracetest';
const ROOT = join(__dirname, '..', '..');

class Tables1764115200000 implements MigrationInterface {
  name = 'Tables1764115200000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await createMessagingTables(queryRunner, SCHEMA);
  }
  async down(): Promise<void> {}
}

interface SpanLine {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parent?: string;
}

const SERVER = 1;
const PRODUCER = 3;
const CONSUMER = 4;

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
    const child = spawn(process.execPath, ['-r', './tools/ts-register.cjs', 'tests/foundation/fixtures/trace-pipeline.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: db.appUrl(SCHEMA),
        KAFKA_BROKERS: tk.options.brokers[0],
        KAFKA_TOPIC_PREFIX: tk.prefix,
        TRACE_SCHEMA: SCHEMA,
        TRACE_TENANT: tenant,
        OTEL_TRACES_EXPORTER: 'none',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });

    const spans: SpanLine[] = stdout
      .split('\n')
      .filter((l) => l.startsWith('SPAN '))
      .map((l) => JSON.parse(l.slice(5)));
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
