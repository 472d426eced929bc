import { Topics, type InboundMessageV1 } from '@wa/contracts';
import { createTestKafka, sleep, waitFor, type TestKafka, type TestService } from '@wa/testing';
import { events, startIngress } from '../../services/webhook-ingress/test/support/harness';
import { LocalBroker } from './support/broker';
import { faultTable } from './support/report';
import { SHORT } from './support/short';
import { WebhookLoad } from './support/webhook-load';

/** How long the broker stays down: other engineers' tests share it, so the whole window stays short. */
const DOWN_MS = 10000;

/**
 * The Kafka broker itself stops under webhook load and starts again. The ingress answers 5xx while
 * it is down (Meta delivers those again), recovers by itself, and every webhook it acknowledged
 * with 200 reaches the inbound topic exactly once.
 */
// Not in the short version (CI): the broker is everyone's there, and its restart is the slowest step.
(SHORT ? describe.skip : describe)('fault: Kafka broker stopped and restarted under webhook load', () => {
  const broker = new LocalBroker();
  let tk: TestKafka;
  let ingress: TestService;

  beforeAll(async () => {
    broker.assertManaged();
    tk = await createTestKafka('fault-broker');
    ingress = await startIngress(tk, { env: { WEBHOOK_DURABLE_TIMEOUT_MS: '2000', LOG_LEVEL: 'fatal' } });
  });

  afterAll(async () => {
    await ingress?.close();
    await ingress?.db.drop();
    await tk?.cleanup();
  });

  it('loses no acknowledged webhook and recovers without a restart', async () => {
    const load = new WebhookLoad(() => ingress.url, 'broker');
    load.start();
    await waitFor(() => load.accepted.size >= 50, { what: 'load flowing before the fault', timeoutMs: 60000 });

    const stoppedAt = Date.now();
    let startedAt = 0;
    try {
      await broker.stop();
      await sleep(Math.max(0, DOWN_MS - (Date.now() - stoppedAt)));
    } finally {
      await broker.start();
      startedAt = Date.now();
    }
    const refused = load.refusals.filter((t) => t >= stoppedAt).length;
    const firstAcceptedAfter = await waitFor(() => load.acceptedAt.find((t) => t > startedAt), {
      what: 'a webhook accepted after the broker is back',
      timeoutMs: 120000,
    });
    await sleep(5000);
    await load.stop();

    // Read the topic afresh: every acknowledged wamid, each once.
    const inbound = await tk.collect(Topics.inboundMessage.name);
    // Copies of one event (same ce_id) are at-least-once delivery, absorbed by consumers' inboxes;
    // a duplicate is a second event (another ce_id) for the same message.
    const seen = new Map<string, Set<string>>();
    const count = () => {
      seen.clear();
      for (const e of events<InboundMessageV1>(inbound.records)) {
        seen.set(e.data.messageId, (seen.get(e.data.messageId) ?? new Set<string>()).add(e.id));
      }
      return [...load.accepted].every((w) => seen.has(w));
    };
    await waitFor(count, { what: 'every acknowledged webhook downstream', timeoutMs: 180000, intervalMs: 1000 }).catch(() => undefined);
    count();
    const lost = [...load.accepted].filter((w) => !seen.has(w));
    const duplicates = [...seen.values()].reduce((n, ids) => n + ids.size - 1, 0);
    const row = {
      fault: `broker stopped ${Math.round((startedAt - stoppedAt) / 1000)} s`,
      load: `${load.sent} webhooks, 4 clients`,
      accepted: load.accepted.size,
      lost: lost.length,
      duplicates,
      refused,
      recoverySeconds: (firstAcceptedAfter - startedAt) / 1000,
    };
    process.stdout.write(`\n${faultTable([row])}\n\n`);

    expect(refused).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    expect(duplicates).toBe(0);
  });
});
