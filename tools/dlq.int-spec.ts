import pino from 'pino';
import { CE, Topics, type EventEnvelope } from '@wa/contracts';
import { ConsumerHost, dlqTopicName, EventProducer, NonRetriableError, prefixed, retryTopicName } from '@wa/kafka';
import { createTestKafka, sequencedConsent, sequenceOf, uniqueSuffix, waitFor, type TestKafka } from '@wa/testing';
import { runDlq } from './dlq';

const quiet = pino({ level: 'silent' });

/**
 * The operator's path: a record dead-lettered because the consumer could not take its payload,
 * the consumer fixed, the dead letter replayed and handled once; replaying it again sends nothing.
 */
describe('npm run dlq against the real broker', () => {
  let tk: TestKafka;
  let producer: EventProducer;
  let host: ConsumerHost;
  const group = `dlq-tool-${uniqueSuffix()}`;
  /** Handled events by ce_id (what the consumer applied, as its inbox would). */
  const applied = new Map<string, number>();
  const calls = new Map<string, number>();
  let acceptsOptOut = false;

  const run = async (...argv: string[]) => {
    const lines: string[] = [];
    const code = await runDlq(argv, { kafka: tk.kafka, options: tk.options, out: (line) => lines.push(line) });
    return { code, text: lines.join('\n') };
  };
  const endOffset = async (topic: string) => {
    const admin = tk.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(prefixed(tk.options, topic));
      return offsets.reduce((sum, p) => sum + Number(p.high), 0);
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    tk = await createTestKafka('dlq');
    producer = new EventProducer(tk.kafka, tk.options, '/tests/dlq');
    await producer.connect();
    host = new ConsumerHost(tk.kafka, tk.options, producer, {
      groupId: group,
      logger: quiet,
      retry: { inlineAttempts: 2, inlineBackoffMs: 10, retryDelaysMs: [200] },
    });
    host.register(Topics.citizenConsent, async (env: EventEnvelope) => {
      calls.set(env.id, (calls.get(env.id) ?? 0) + 1);
      const data = env.data as { state: string };
      // The bug being fixed: this consumer did not know opt-outs yet.
      if (data.state === 'opted_out' && !acceptsOptOut) throw new NonRetriableError(`unsupported consent state ${data.state}`);
      if (!applied.has(env.id)) applied.set(env.id, sequenceOf(env.data));
    });
    await host.start();
  });

  afterAll(async () => {
    await host.stop();
    await producer.disconnect();
    await tk.cleanup();
  });

  it('lists, shows and replays a dead letter once, however often it is replayed', async () => {
    const tenant = `dlq-${uniqueSuffix()}`.slice(0, 30);
    await producer.publish(Topics.citizenConsent, sequencedConsent(tenant, '573005550001', 1));
    await producer.publish(Topics.citizenConsent, sequencedConsent(tenant, '573005550002', 2, 'opted_out'));
    await producer.publish(Topics.citizenConsent, sequencedConsent(tenant, '573005550003', 3));
    await waitFor(() => applied.size === 2, { what: 'the two good records', timeoutMs: 60000 });
    await waitFor(async () => (await endOffset(dlqTopicName(group))) === 1, { what: 'the opt-out dead-lettered' });

    const listed = await run('list', '--group', group);
    expect(listed.code).toBe(0);
    expect(listed.text).toMatch(/^0:0 .*non-retriable\s+citizen\.consent\.v1/m);
    expect(listed.text).toMatch(/non-retriable\s+1\s+1/);
    expect(listed.text).not.toContain('573005550002');
    expect((await run('list', '--group', group, '--reason', 'retries-exhausted')).text).toContain('no dead letters');

    const shown = await run('show', '--group', group, '--offset', '0');
    expect(shown.text).toContain('reason: non-retriable');
    expect(shown.text).toContain('error: NonRetriableError: unsupported consent state opted_out');
    expect(shown.text).toMatch(/x-original-topic: citizen\.consent\.v1/);
    const ceId = /ce_id: (\S+)/.exec(shown.text)![1];
    expect(calls.get(ceId)).toBe(1);

    acceptsOptOut = true;
    const first = await run('replay', '--group', group, '--reason', 'non-retriable');
    expect(first.text).toContain('1 replayed, 0 skipped');
    await waitFor(() => applied.has(ceId), { what: 'the replayed record handled' });

    const again = await run('replay', '--group', group, '--reason', 'non-retriable');
    expect(again.text).toContain('0 replayed, 1 skipped as already replayed');
    const byOffset = await run('replay', '--group', group, '--offset', '0');
    expect(byOffset.text).toContain('already replayed 0:0');
    const byId = await run('replay', '--group', group, '--id', ceId, '--to', 'source');
    expect(byId.text).toContain('0 replayed, 1 skipped');

    // Sent once: one record on the retry topic, handled once, and nothing dead-lettered since.
    expect(await endOffset(retryTopicName(group))).toBe(1);
    expect(calls.get(ceId)).toBe(2);
    expect(applied.size).toBe(3);
    expect((await run('list', '--group', group)).text).toMatch(/non-retriable\s+1\s+0/);
    // The DLQ holds the dead letter and its replay mark, no new dead letter.
    expect(await endOffset(dlqTopicName(group))).toBe(2);
    expect((await run('show', '--group', group, '--offset', '0')).text).toMatch(/replayed: \S+ to .*\.retry/);
    expect(applied.get(ceId)).toBe(2);
    expect(shown.text).toContain(`${CE.tenant}: ${tenant}`);
  });

  it('replays to the source topic by ce_id, keeping the ce_id', async () => {
    acceptsOptOut = false;
    const tenant = `dlq-src-${uniqueSuffix()}`.slice(0, 30);
    const dlqBefore = await endOffset(dlqTopicName(group));
    await producer.publish(Topics.citizenConsent, sequencedConsent(tenant, '573005550009', 9, 'opted_out'));
    await waitFor(async () => (await endOffset(dlqTopicName(group))) === dlqBefore + 1, { what: 'the second opt-out dead-lettered' });
    const shown = await run('show', '--group', group, '--offset', String(dlqBefore));
    const ceId = /ce_id: (\S+)/.exec(shown.text)![1];

    acceptsOptOut = true;
    const sourceBefore = await endOffset(Topics.citizenConsent.name);
    const replayed = await run('replay', '--group', group, '--id', ceId, '--to', 'source');
    expect(replayed.text).toContain('1 replayed, 0 skipped');
    await waitFor(() => applied.has(ceId), { what: 'the record replayed to its source handled' });
    expect(await endOffset(Topics.citizenConsent.name)).toBe(sourceBefore + 1);
    expect((await run('replay', '--group', group, '--id', ceId)).text).toContain('0 replayed, 1 skipped');
    expect(calls.get(ceId)).toBe(2);
  });

  it('refuses an empty selection and explains itself', async () => {
    const noSelection = await run('replay', '--group', group);
    expect(noSelection.code).toBe(2);
    expect(noSelection.text).toContain('replay needs --offset, --id or --reason');
    expect((await run('show', '--group', group, '--offset', '99')).text).toContain('no dead letter at offset 99');
    expect((await run('--help')).text).toContain('Replaying is idempotent');
  });
});
