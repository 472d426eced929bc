// Dead letters of one consumer group: list them by reason and time, show one, replay a selection.
// Usage: npm run dlq -- <list|show|replay> --group <consumer group> [options]   (--help for all)
// Talks to the brokers in KAFKA_BROKERS (default 127.0.0.1:9092) with KAFKA_TOPIC_PREFIX ('' in production).
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { CE } from '@wa/contracts';
import {
  createKafka,
  dlqTopicName,
  EventProducer,
  kafkaOptionsFromEnv,
  prefixed,
  RETRY_HEADERS,
  retryTopicName,
  type KafkaOptions,
} from '@wa/kafka';
import { maskPhonesInText } from '@wa/observability';

export const USAGE = `Dead letters of a consumer group (the records its ConsumerHost wrote to <group>.dlq).

  npm run dlq -- list   --group <g> [--reason <r>] [--topic <t>] [--since <time>] [--until <time>] [--json]
  npm run dlq -- show   --group <g> --offset <n>
  npm run dlq -- replay --group <g> (--offset <n,...> | --id <ce_id,...> | --reason <r> [--topic <t>] [--since] [--until])
                        [--to retry|source] [--dry-run]

list    Dead letters oldest first with their offset, time, reason (x-dlq-reason), source topic, event type,
        tenant and whether they were already replayed; then the count per reason.
show    One dead letter: every header (x-error says why), and its value.
replay  Sends the selected dead letters back to be handled again, with their key, value and ce_id.
          --to retry   (default) through the group's own retry topic <g>.retry, due now: only this
                       group sees the record again, with a fresh retry budget.
          --to source  to the original topic: every group reading it sees the record again (they
                       deduplicate by ce_id); never for compacted topics, where it would bring back
                       an older value for the key.
        Replaying is idempotent: each replay is recorded as a mark in the DLQ topic itself, and a
        dead letter that already has one is skipped (a no-op, reported as "already replayed"), so
        running the same replay twice sends each record once. The consumers' inboxes (ce_id) absorb
        what a crash between the send and the mark could repeat. A record that fails again is
        dead-lettered again as a new dead letter, with a new offset.
        --dry-run lists what would be sent.

Times are ISO 8601 (2026-01-31T08:00:00Z) or relative (30m, 6h, 2d ago).
Environment: KAFKA_BROKERS, KAFKA_TOPIC_PREFIX.`;

/** Header of the marks the tool writes into a DLQ topic after replaying a dead letter. */
export const REPLAY_MARK_HEADER = 'x-dlq-replay-of';
const REPLAYED_FROM_HEADER = 'x-replayed-from';

export interface ReplayMark {
  /** `partition:offset` of the dead letter. */
  of: string;
  ceId: string | null;
  to: string;
  replayedAt: string;
}

export interface DeadLetter {
  partition: number;
  offset: string;
  /** When it was dead-lettered (the DLQ record's timestamp). */
  at: Date;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  reason: string;
  error: string;
  sourceTopic: string;
  ceId: string | null;
  replayed?: ReplayMark;
}

export interface DlqContext {
  kafka: Kafka;
  options: KafkaOptions;
  out: (line: string) => void;
  now?: () => Date;
}

const ref = (partition: number, offset: string) => `${partition}:${offset}`;

/** Every record of the group's DLQ topic, dead letters with their replay marks folded in. */
export async function readDeadLetters(ctx: DlqContext, group: string): Promise<DeadLetter[]> {
  const topic = prefixed(ctx.options, dlqTopicName(group));
  const admin = ctx.kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const topics = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
    if (!topics) throw new Error(`no DLQ topic ${topic}: is "${group}" a consumer group that has started?`);
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect();
  }
  const letters: DeadLetter[] = [];
  const marks = new Map<string, ReplayMark>();
  if (ends.size > 0) {
    // A throwaway group reads the topic from the start up to its end as it was when we looked.
    const readerGroup = prefixed(ctx.options, `dlq-tool.${randomBytes(4).toString('hex')}`);
    const consumer = ctx.kafka.consumer({ groupId: readerGroup, allowAutoTopicCreation: false, maxBytesPerPartition: 10 * 1024 * 1024 });
    const remaining = new Set(ends.keys());
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          const end = ends.get(batch.partition);
          for (const message of batch.messages) {
            if (end === undefined || BigInt(message.offset) >= end) break;
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = v.toString();
            if (headers[REPLAY_MARK_HEADER]) {
              marks.set(headers[REPLAY_MARK_HEADER], JSON.parse(message.value?.toString() ?? '{}') as ReplayMark);
            } else {
              letters.push({
                partition: batch.partition,
                offset: message.offset,
                at: new Date(Number(message.timestamp)),
                key: message.key?.toString() ?? null,
                value: message.value,
                headers,
                reason: headers[RETRY_HEADERS.reason] ?? 'unknown',
                error: headers[RETRY_HEADERS.error] ?? '',
                sourceTopic: headers[RETRY_HEADERS.originalTopic] ?? '',
                ceId: headers[CE.id] ?? null,
              });
            }
          }
          // lastOffset() also counts records a consumer never sees (control records).
          if (end === undefined || BigInt(batch.lastOffset()) + 1n >= end) remaining.delete(batch.partition);
          if (remaining.size === 0) done();
        },
      });
      await finished;
    } finally {
      await consumer.disconnect();
      const admin2 = ctx.kafka.admin();
      await admin2.connect();
      await admin2.deleteGroups([readerGroup]).catch(() => undefined);
      await admin2.disconnect();
    }
  }
  for (const letter of letters) letter.replayed = marks.get(ref(letter.partition, letter.offset));
  return letters.sort((a, b) => a.at.getTime() - b.at.getTime() || a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

export interface Filter {
  reason?: string;
  topic?: string;
  since?: Date;
  until?: Date;
}

export function matches(letter: DeadLetter, filter: Filter): boolean {
  if (filter.reason && letter.reason !== filter.reason) return false;
  if (filter.topic && letter.sourceTopic !== filter.topic) return false;
  if (filter.since && letter.at < filter.since) return false;
  if (filter.until && letter.at > filter.until) return false;
  return true;
}

export interface ReplayResult {
  replayed: DeadLetter[];
  /** Already replayed before (or twice in the same selection): nothing sent. */
  skipped: DeadLetter[];
}

/**
 * Sends each selected dead letter back (see USAGE, --to) and marks it replayed in the DLQ topic;
 * dead letters with a mark are skipped.
 */
export async function replay(
  ctx: DlqContext,
  group: string,
  selected: DeadLetter[],
  { to = 'retry', dryRun = false }: { to?: 'retry' | 'source'; dryRun?: boolean } = {},
): Promise<ReplayResult> {
  const result: ReplayResult = { replayed: [], skipped: [] };
  const seen = new Set<string>();
  const pending: DeadLetter[] = [];
  for (const letter of selected) {
    const id = ref(letter.partition, letter.offset);
    if (letter.replayed || seen.has(id)) result.skipped.push(letter);
    else pending.push(letter);
    seen.add(id);
  }
  if (dryRun || pending.length === 0) return { ...result, replayed: pending };
  const producer = new EventProducer(ctx.kafka, ctx.options, '/tools/dlq');
  await producer.connect();
  const now = (ctx.now ?? (() => new Date()))();
  try {
    for (const letter of pending) {
      const id = ref(letter.partition, letter.offset);
      const target = to === 'retry' ? retryTopicName(group) : letter.sourceTopic;
      if (!target) throw new Error(`dead letter ${id} has no ${RETRY_HEADERS.originalTopic} header; cannot replay it to its source`);
      const headers = replayHeaders(letter, to, `${dlqTopicName(group)}@${id}`, now);
      // One at a time, each mark right after its record: a failure part-way leaves exact marks.
      await producer.send([{ topic: target, key: letter.key, value: letter.value, headers }]);
      const mark: ReplayMark = { of: id, ceId: letter.ceId, to: target, replayedAt: now.toISOString() };
      await producer.send([
        { topic: dlqTopicName(group), key: `replay:${id}`, value: JSON.stringify(mark), headers: { [REPLAY_MARK_HEADER]: id } },
      ]);
      letter.replayed = mark;
      result.replayed.push(letter);
    }
  } finally {
    await producer.disconnect();
  }
  return result;
}

function replayHeaders(letter: DeadLetter, to: 'retry' | 'source', from: string, now: Date): Record<string, string> {
  const headers = { ...letter.headers };
  delete headers[RETRY_HEADERS.reason];
  delete headers[RETRY_HEADERS.error];
  if (to === 'retry') {
    // Due now, as a first delivery: the group's ConsumerHost gives it the whole retry budget again.
    headers[RETRY_HEADERS.attempt] = '0';
    headers[RETRY_HEADERS.notBefore] = String(now.getTime());
  } else {
    for (const name of Object.values(RETRY_HEADERS)) delete headers[name];
  }
  headers[REPLAYED_FROM_HEADER] = from;
  return headers;
}

// ---------------------------------------------------------------------------------------- CLI

interface Args {
  command?: string;
  flags: Map<string, string | true>;
}

function parseArgs(argv: string[]): Args {
  const flags = new Map<string, string | true>();
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
      if (inline !== undefined) flags.set(name, inline);
      else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) flags.set(name, argv[++i]);
      else flags.set(name, true);
    } else if (!command) command = arg;
    else throw new UsageError(`unexpected argument: ${arg}`);
  }
  return { command, flags };
}

class UsageError extends Error {}

function flag(args: Args, name: string): string | undefined {
  const value = args.flags.get(name);
  if (value === true) throw new UsageError(`--${name} needs a value`);
  return value;
}

export function parseTime(value: string, now: Date): Date {
  const relative = /^(\d+)\s*([mhd])(\s*ago)?$/.exec(value.trim());
  if (relative) {
    const ms = Number(relative[1]) * { m: 60000, h: 3600000, d: 86400000 }[relative[2] as 'm' | 'h' | 'd'];
    return new Date(now.getTime() - ms);
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`not a time: ${value} (ISO 8601 or 30m, 6h, 2d)`);
  return date;
}

function filterOf(args: Args, now: Date): Filter {
  const since = flag(args, 'since');
  const until = flag(args, 'until');
  return {
    reason: flag(args, 'reason'),
    topic: flag(args, 'topic'),
    since: since ? parseTime(since, now) : undefined,
    until: until ? parseTime(until, now) : undefined,
  };
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/** An offset as given (`12`, or `0:12` with the partition; the DLQ has one partition). */
function findByOffset(letters: DeadLetter[], wanted: string): DeadLetter {
  const [partition, offset] = wanted.includes(':') ? wanted.split(':') : ['0', wanted];
  const letter = letters.find((l) => l.partition === Number(partition) && l.offset === offset);
  if (!letter) throw new UsageError(`no dead letter at offset ${wanted}`);
  return letter;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
}

function describe(letter: DeadLetter): string[] {
  return [
    ref(letter.partition, letter.offset),
    letter.at.toISOString(),
    letter.reason,
    letter.sourceTopic,
    letter.headers[CE.type] ?? '',
    letter.headers[CE.tenant] ?? '',
    maskPhonesInText(letter.key ?? ''),
    letter.replayed ? `replayed ${letter.replayed.replayedAt}` : '',
  ];
}

export async function runDlq(argv: string[], ctx: DlqContext): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
    if (!args.command || args.flags.has('help') || args.command === 'help') {
      ctx.out(USAGE);
      return args.command && args.command !== 'help' && !args.flags.has('help') ? 2 : 0;
    }
    const group = flag(args, 'group');
    if (!group) throw new UsageError('--group is required (the consumer group, e.g. outbound-gateway)');
    const now = (ctx.now ?? (() => new Date()))();
    const letters = await readDeadLetters(ctx, group);

    if (args.command === 'list') {
      const selected = letters.filter((l) => matches(l, filterOf(args, now)));
      if (args.flags.has('json')) {
        for (const l of selected) ctx.out(JSON.stringify({ ...l, value: undefined, key: maskPhonesInText(l.key ?? '') || null }));
        return 0;
      }
      if (selected.length === 0) {
        ctx.out(`no dead letters in ${dlqTopicName(group)} matching the filter`);
        return 0;
      }
      const header = ['offset', 'dead-lettered at', 'reason', 'source topic', 'type', 'tenant', 'key', 'replay'];
      for (const line of table([header, ...selected.map(describe)])) ctx.out(line);
      const byReason = new Map<string, { count: number; open: number }>();
      for (const l of selected) {
        const entry = byReason.get(l.reason) ?? { count: 0, open: 0 };
        entry.count++;
        if (!l.replayed) entry.open++;
        byReason.set(l.reason, entry);
      }
      ctx.out('');
      for (const line of table([
        ['reason', 'dead letters', 'not replayed'],
        ...[...byReason].map(([reason, e]) => [reason, String(e.count), String(e.open)]),
      ]))
        ctx.out(line);
      return 0;
    }

    if (args.command === 'show') {
      const offset = flag(args, 'offset');
      if (!offset) throw new UsageError('show needs --offset <n>');
      const letter = findByOffset(letters, offset);
      ctx.out(`dead letter ${ref(letter.partition, letter.offset)} of ${dlqTopicName(group)}, ${letter.at.toISOString()}`);
      ctx.out(`reason: ${letter.reason}`);
      ctx.out(`error: ${letter.error}`);
      ctx.out(`key: ${letter.key ?? '(none)'}`);
      ctx.out(letter.replayed ? `replayed: ${letter.replayed.replayedAt} to ${letter.replayed.to}` : 'replayed: no');
      ctx.out('headers:');
      for (const [k, v] of Object.entries(letter.headers).sort(([a], [b]) => a.localeCompare(b))) ctx.out(`  ${k}: ${v}`);
      ctx.out('value:');
      const text = letter.value?.toString() ?? '(null)';
      try {
        ctx.out(JSON.stringify(JSON.parse(text), null, 2));
      } catch {
        ctx.out(text);
      }
      return 0;
    }

    if (args.command === 'replay') {
      const to = flag(args, 'to') ?? 'retry';
      if (to !== 'retry' && to !== 'source') throw new UsageError('--to is retry or source');
      const offsets = list(flag(args, 'offset'));
      const ids = list(flag(args, 'id'));
      const filter = filterOf(args, now);
      let selected: DeadLetter[];
      if (offsets.length) selected = offsets.map((o) => findByOffset(letters, o));
      else if (ids.length) {
        selected = letters.filter((l) => l.ceId !== null && ids.includes(l.ceId));
        const missing = ids.filter((id) => !selected.some((l) => l.ceId === id));
        if (missing.length) throw new UsageError(`no dead letter with ce_id ${missing.join(', ')}`);
      } else if (filter.reason) selected = letters.filter((l) => matches(l, filter));
      else throw new UsageError('replay needs --offset, --id or --reason (a selection, never everything by default)');
      const result = await replay(ctx, group, selected, { to, dryRun: args.flags.has('dry-run') });
      const verb = args.flags.has('dry-run') ? 'would replay' : 'replayed';
      for (const l of result.replayed) ctx.out(`${verb} ${ref(l.partition, l.offset)} (${l.reason}, ce_id ${l.ceId ?? '-'})`);
      for (const l of result.skipped) {
        ctx.out(`already replayed ${ref(l.partition, l.offset)} (${l.replayed?.replayedAt ?? 'listed twice'}): skipped`);
      }
      ctx.out(`${result.replayed.length} ${verb}, ${result.skipped.length} skipped as already replayed`);
      return 0;
    }
    throw new UsageError(`unknown command ${args.command}`);
  } catch (error) {
    if (error instanceof UsageError) {
      ctx.out(`dlq: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) {
  // kafkajs's own error lines would repeat what the tool reports.
  const options = kafkaOptionsFromEnv('dlq-tool', process.env, pino({ level: 'silent' }));
  const kafka = createKafka(options, { retry: { retries: 3 } });
  runDlq(process.argv.slice(2), { kafka, options, out: (line) => process.stdout.write(`${line}\n`) }).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`dlq failed: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
