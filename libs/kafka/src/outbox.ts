import { context, trace, type Context } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, type DataSource, type EntityManager } from 'typeorm';
import { CE, encodeEvent, encodeTombstone, type EncodeOptions, type TopicSpec } from '@wa/contracts';
import { counter, gauge } from '@wa/observability';
import { describeError, isInfrastructureError } from './errors';
import type { EventProducer, OutgoingRecord } from './producer';
import { extractTraceContext, injectTraceContext } from './trace-context';

/** Lives in each service's own schema (the DataSource's default schema). */
@Entity({ name: 'outbox' })
@Index('outbox_unpublished_idx', ['seq'], { where: 'published_at IS NULL' })
export class OutboxRecord {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) seq!: string;
  @Column({ type: 'uuid', unique: true }) eventId!: string;
  @Column({ type: 'text' }) topic!: string;
  @Column({ type: 'text', nullable: true }) key!: string | null;
  /**
   * Text, not jsonb: the published bytes are exactly the ones validated at insert. Null only for
   * tombstones (Outbox.addTombstone), in schemas whose migration made the column nullable.
   */
  @Column({ type: 'text', nullable: true }) value!: string | null;
  @Column({ type: 'jsonb' }) headers!: Record<string, string>;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'published_at', type: 'timestamptz', nullable: true }) publishedAt!: Date | null;
  /** Sends tried: the one that was acked, or the ones the broker refused. */
  @Column({ type: 'int', default: 0 }) attempts!: number;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError!: string | null;
  /** Set when the relay gave up on the row (see OutboxRelayOptions.parkAfterAttempts); added by addOutboxParking. */
  @Column({ name: 'parked_at', type: 'timestamptz', nullable: true }) parkedAt!: Date | null;
}

export interface OutboxEntry extends Partial<EncodeOptions> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec: TopicSpec<any>;
  data: object & { tenantId: string };
  /** The trace the event belongs to; defaults to the caller's active context. */
  parent?: Context;
}

/**
 * Writes an event into the outbox inside the caller's transaction, so the business change and the
 * event commit or roll back together. The caller's trace context is stored with the row and
 * restored by the relay.
 */
export class Outbox {
  constructor(private readonly source: string) {}

  async add<T extends object & { tenantId: string }>(
    manager: EntityManager,
    spec: TopicSpec<T>,
    data: T,
    options: Partial<EncodeOptions> = {},
  ): Promise<string> {
    const [eventId] = await this.addMany(manager, [{ spec, data, ...options }]);
    return eventId;
  }

  /**
   * Many events in one INSERT (a sweep or a webhook batch writes hundreds: one statement instead
   * of a round trip each). Each entry may name the trace it belongs to; default: the active one.
   * Returns the ce_ids in order.
   */
  async addMany(manager: EntityManager, entries: OutboxEntry[]): Promise<string[]> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('Outbox.add must run inside a transaction (dataSource.transaction(...))');
    }
    if (entries.length === 0) return [];
    const active = context.active();
    const rows = entries.map(({ spec, data, parent, ...options }) => {
      const encoded = encodeEvent(spec, data, { source: this.source, ...options });
      injectTraceContext(encoded.headers, parent ?? active);
      return { eventId: encoded.headers[CE.id], topic: spec.name, key: encoded.key, value: encoded.value, headers: encoded.headers };
    });
    // One JSON document whatever the row count: a VALUES list needs five parameters per row, which
    // Postgres parses and plans far more slowly, and text[]/jsonb[] parameters make pg quote and
    // escape every element in JavaScript (two regex passes over each event), where JSON.stringify is native.
    const table = manager.connection.getMetadata(OutboxRecord).tablePath;
    await manager.query(
      `INSERT INTO ${table} ("eventId", "topic", "key", "value", "headers")
       SELECT "eventId", "topic", "key", "value", "headers"
       FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS ("eventId" uuid, "topic" text, "key" text, "value" text, "headers" jsonb))
            WITH ORDINALITY AS r("eventId", "topic", "key", "value", "headers", ord)
       ORDER BY ord`,
      [JSON.stringify(rows)],
    );
    return rows.map((r) => r.eventId);
  }

  /**
   * A tombstone (null value) for a key of a compacted topic, so compaction forgets the key and
   * read models drop it. It carries the CloudEvents headers (consumers decode it as
   * `tombstone: true`). The service's `outbox.value` column must allow NULL: the shared DDL makes
   * it NOT NULL, so a service that sends tombstones relaxes it in one of its own migrations.
   */
  async addTombstone(
    manager: EntityManager,
    spec: TopicSpec,
    key: string,
    tenantId: string,
    options: Partial<Omit<EncodeOptions, 'type'>> = {},
  ): Promise<string> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('Outbox.addTombstone must run inside a transaction (dataSource.transaction(...))');
    }
    const { headers } = encodeTombstone(spec, key, tenantId, { ...options, source: options.source ?? this.source });
    const eventId = headers[CE.id];
    injectTraceContext(headers, context.active());
    await manager.insert(OutboxRecord, { eventId, topic: spec.name, key, value: null, headers });
    return eventId;
  }
}

export interface OutboxRelayOptions {
  batchSize?: number;
  /** Poll interval when the outbox was empty; a full batch is followed immediately by the next. */
  idleIntervalMs?: number;
  logger?: Logger;
  /** Test hook: runs after Kafka acked, before the rows are marked (to simulate a crash there). */
  afterSendBeforeMark?: () => Promise<void>;
  /**
   * How long published rows stay (for "was it published, and when?"; Kafka holds the events
   * themselves, and a deterministic ce_id is refused as a repeat only while its row is kept).
   * Older ones are deleted every `pruneIntervalMs`. Default 7 days; 0 keeps them forever.
   */
  keepPublishedMs?: number;
  /** Default 10 minutes. */
  pruneIntervalMs?: number;
  /** Rows per delete statement (default 5,000), so no delete holds its locks for long. */
  pruneBatchSize?: number;
  /**
   * A row the broker refuses (too large for the topic, invalid, not authorised) is tried this many
   * times, one poll apart, and then parked: `parked_at` and `last_error` are set, the relay skips
   * it and the rows behind it flow. Default 5. Failures because Kafka is unreachable never count.
   */
  parkAfterAttempts?: number;
  /** How often the parked-rows gauge is sampled; default 1 minute. */
  parkedSampleIntervalMs?: number;
}

const DEFAULT_KEEP_PUBLISHED_MS = 7 * 24 * 60 * 60 * 1000;

const relayed = counter('outbox_relayed_records_total', 'Outbox rows published to Kafka', ['schema']);
const pendingGauge = gauge('outbox_pending_records', 'Outbox rows not yet published (sampled per poll)', ['schema']);
const pruned = counter('outbox_pruned_records_total', 'Published outbox rows deleted after their retention', ['schema']);
const parkedTotal = counter('outbox_parked_records_total', 'Outbox rows the broker kept refusing, set aside unpublished', ['schema']);
const parkedGauge = gauge('outbox_parked_records', 'Outbox rows parked and not yet released (sampled)', ['schema']);

type RelayRow = Pick<OutboxRecord, 'seq' | 'eventId' | 'topic' | 'key' | 'value' | 'headers' | 'attempts'>;

/**
 * Publishes committed outbox rows in insert order and marks them. Rows are claimed with
 * FOR UPDATE SKIP LOCKED, so several replicas can relay without publishing a row twice while it is
 * locked; a crash after Kafka acked but before the mark republishes the row, which consumers'
 * inboxes absorb (the ce_id is stable). Per-key order holds because one poll publishes a whole
 * ordered batch before the next claims more.
 *
 * A row the broker refuses for good (larger than the topic's max.message.bytes, say) would block
 * the outbox forever, since every poll starts with it: it is tried `parkAfterAttempts` times and
 * then parked (kept, unpublished, with its error) while the rows after it flow. While Kafka is
 * unreachable nothing counts as a try: the rows wait.
 */
export class OutboxRelay {
  private timer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private parkedTimer?: NodeJS.Timeout;
  private running = false;
  private loop?: Promise<void>;
  private readonly log: Logger;

  constructor(
    private readonly dataSource: DataSource,
    private readonly producer: EventProducer,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.log = options.logger ?? pino({ level: 'warn' });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const idleMs = this.options.idleIntervalMs ?? 200;
    let failures = 0;
    const tick = async () => {
      if (!this.running) return;
      let published = 0;
      let delayMs = idleMs;
      try {
        published = await this.relayOnce();
        if (failures > 0) this.log.warn({ failures }, 'outbox relay working again');
        failures = 0;
      } catch (error) {
        // PostgreSQL or Kafka away: back off (up to 5 s) rather than fail, and log, every idle tick.
        failures++;
        delayMs = Math.min(5000, idleMs * 2 ** Math.min(failures, 10));
        const fields = { err: describeError(error), failures, infrastructure: isInfrastructureError(error), retryInMs: delayMs };
        if (failures === 1 || failures % 20 === 0) this.log.error(fields, 'outbox relay failed; will retry');
      }
      if (this.running) this.timer = setTimeout(() => (this.loop = tick()), published > 0 ? 0 : delayMs);
    };
    this.loop = tick();
    const keep = this.options.keepPublishedMs ?? DEFAULT_KEEP_PUBLISHED_MS;
    if (keep > 0) {
      this.pruneTimer = setInterval(
        () =>
          void this.prunePublished().catch((error) => this.log.warn({ err: (error as Error).message }, 'outbox prune failed; will retry')),
        this.options.pruneIntervalMs ?? 10 * 60 * 1000,
      );
      this.pruneTimer.unref();
    }
    const sampleParked = () => void this.countParked().catch(() => undefined);
    sampleParked();
    this.parkedTimer = setInterval(sampleParked, this.options.parkedSampleIntervalMs ?? 60000);
    this.parkedTimer.unref();
  }

  /** Parked rows now (also sets the outbox_parked_records gauge). */
  async countParked(): Promise<number> {
    const table = this.dataSource.getMetadata(OutboxRecord).tablePath;
    const [{ n }]: { n: number }[] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM ${table} WHERE published_at IS NULL AND parked_at IS NOT NULL`,
    );
    parkedGauge.set({ schema: this.dataSource.driver.schema ?? 'public' }, n);
    return n;
  }

  /** Stops polling after publishing what is already committed (graceful shutdown). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    clearInterval(this.pruneTimer);
    clearInterval(this.parkedTimer);
    await this.loop;
    try {
      while ((await this.relayOnce()) > 0);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'outbox not fully flushed at shutdown');
    }
  }

  /**
   * Deletes rows published longer ago than `keepPublishedMs`; returns how many. It looks only at
   * the oldest rows by `seq` (the primary key), one batch at a time, so each statement reads about
   * as many rows as it deletes, without an index on `published_at`: the relay publishes in `seq`
   * order, so the rows old enough are the head of the table. Rows not yet published are never
   * touched (nor skipped over: the pass goes on behind them); every replica may run it.
   */
  async prunePublished(): Promise<number> {
    const keepMs = this.options.keepPublishedMs ?? DEFAULT_KEEP_PUBLISHED_MS;
    if (keepMs <= 0) return 0;
    const table = this.dataSource.getMetadata(OutboxRecord).tablePath;
    const schema = this.dataSource.driver.schema ?? 'public';
    let total = 0;
    for (;;) {
      const [{ n }]: { n: number }[] = await this.dataSource.query(
        `WITH oldest AS (SELECT seq FROM ${table} ORDER BY seq LIMIT $2),
              gone AS (DELETE FROM ${table} o USING oldest
                       WHERE o.seq = oldest.seq AND o.published_at < now() - make_interval(secs => $1::float8 / 1000)
                       RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [keepMs, this.options.pruneBatchSize ?? 5000],
      );
      total += n;
      pruned.inc({ schema }, n);
      // An oldest batch with nothing old enough (or only rows not yet published) ends the pass.
      if (n === 0) return total;
    }
  }

  /** Publishes one batch; returns how many rows it published. */
  async relayOnce(): Promise<number> {
    const schema = this.dataSource.driver.schema ?? 'public';
    const table = this.dataSource.getMetadata(OutboxRecord).tablePath;
    return this.dataSource.transaction(async (manager) => {
      // Plain SQL rather than the query builder: entity hydration of every row and an IN list of
      // one parameter per row cost both sides at the hundreds of rows a busy relay moves per poll.
      const rows: RelayRow[] = await manager.query(
        `SELECT seq, "eventId", topic, key, value, headers, attempts FROM ${table}
         WHERE published_at IS NULL AND parked_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.options.batchSize ?? 500],
      );
      pendingGauge.set({ schema }, rows.length);
      if (rows.length === 0) return 0;
      // One promise per row (the producer still merges them into few requests), so a refused row
      // fails alone and the rows acked around it are known and marked.
      const results = await Promise.allSettled(rows.map((row) => this.producer.send([outgoing(row)])));
      const acked: RelayRow[] = [];
      const refused: { row: RelayRow; error: unknown }[] = [];
      results.forEach((result, i) =>
        result.status === 'fulfilled' ? acked.push(rows[i]) : refused.push({ row: rows[i], error: result.reason }),
      );
      if (refused.length > 0 && refused.every(({ error }) => isInfrastructureError(error))) {
        // Kafka is away: nothing is held against the rows; they go with the next poll.
        if (acked.length === 0) throw refused[0].error;
      } else if (refused.length > 0) {
        // A refusal fails every record of its request: alone, each row shows whether it is the one.
        for (const { row } of refused) {
          try {
            await this.producer.send([outgoing(row)]);
            acked.push(row);
          } catch (error) {
            if (!isInfrastructureError(error)) await this.recordRefusal(manager, table, schema, row, error);
          }
        }
      }
      await this.options.afterSendBeforeMark?.();
      if (acked.length === 0) return 0;
      await manager.query(`UPDATE ${table} SET published_at = now(), attempts = attempts + 1 WHERE seq = ANY($1::bigint[])`, [
        acked.map((r) => r.seq),
      ]);
      relayed.inc({ schema }, acked.length);
      return acked.length;
    });
  }

  private async recordRefusal(manager: EntityManager, table: string, schema: string, row: RelayRow, error: unknown): Promise<void> {
    const attempts = row.attempts + 1;
    const park = attempts >= (this.options.parkAfterAttempts ?? 5);
    const message = describeError(error).slice(0, 2000);
    await manager.query(
      `UPDATE ${table} SET attempts = $2, last_error = $3, parked_at = CASE WHEN $4::boolean THEN now() END WHERE seq = $1`,
      [row.seq, attempts, message, park],
    );
    const fields = { schema, seq: row.seq, eventId: row.eventId, topic: row.topic, attempts, err: message };
    if (!park) {
      this.log.warn(fields, 'outbox row refused by Kafka; will try again');
      return;
    }
    parkedTotal.inc({ schema });
    parkedGauge.inc({ schema });
    this.log.error(fields, 'outbox row parked after repeated refusals; the rows after it go on (see docs/operations.md)');
  }
}

function outgoing(row: RelayRow): OutgoingRecord {
  const { traceparent, tracestate, ...headers } = row.headers;
  return {
    topic: row.topic,
    key: row.key,
    value: row.value,
    headers,
    parent: traceparent ? extractTraceContext({ traceparent, tracestate }) : trace.deleteSpan(context.active()),
  };
}
