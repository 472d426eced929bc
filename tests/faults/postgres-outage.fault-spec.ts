import { Topics, type InboundMessageV1 } from '@wa/contracts';
import { dlqTopicName } from '@wa/kafka';
import {
  createTestDatabase,
  createTestKafka,
  sleep,
  TcpProxy,
  waitFor,
  type TestDatabase,
  type TestKafka,
  type TestService,
} from '@wa/testing';
import { events, startIngress } from '../../services/webhook-ingress/test/support/harness';
import { ingressService } from '../../services/webhook-ingress/src/service';
import { faultTable } from './support/report';
import { scaled } from './support/short';
import { WebhookLoad } from './support/webhook-load';

/**
 * Longer than the whole default retry budget (three in-place tries, then 1 s, 10 s and 60 s
 * through the retry topic, plus the fetch waits between passes): were the outage counted against
 * that budget, the raw webhooks consumed at its start would be dead-lettered.
 */
const DOWN_MS = scaled(100000, 20000);

/**
 * The webhook ingress's PostgreSQL becomes unreachable (its connections go through a TCP proxy the
 * test cuts; the shared server keeps running) under webhook load, for longer than the consumer's
 * retry budget, with the default retry policy. Nothing may be dead-lettered; once the database is
 * back every acknowledged webhook reaches the inbound topic once, without a restart.
 */
describe('fault: PostgreSQL unreachable for the webhook ingress under load', () => {
  let tk: TestKafka;
  let db: TestDatabase;
  let proxy: TcpProxy;
  let ingress: TestService;

  beforeAll(async () => {
    tk = await createTestKafka('fault-pg');
    db = await createTestDatabase([ingressService.schema]);
    const through = TcpProxy.forUrl(db.appUrl(ingressService.schema));
    proxy = through.proxy;
    await proxy.start();
    ingress = await startIngress(tk, {
      db,
      env: { DATABASE_URL: through.rewrite(db.appUrl(ingressService.schema)), WEBHOOK_DURABLE_TIMEOUT_MS: '2000', LOG_LEVEL: 'fatal' },
    });
  });

  afterAll(async () => {
    await proxy?.start();
    await ingress?.close();
    await proxy?.stop();
    await db?.drop();
    await tk?.cleanup();
  });

  it('dead-letters nothing and loses nothing', async () => {
    const dlq = await tk.collect(dlqTopicName(ingressService.consumerGroup));
    const load = new WebhookLoad(() => ingress.url, 'pg', 2, 100);
    load.start();
    await waitFor(() => load.accepted.size >= 50, { what: 'load flowing before the fault', timeoutMs: 60000 });

    const cutAt = Date.now();
    let restoredAt = 0;
    try {
      await proxy.stop();
      await sleep(DOWN_MS);
    } finally {
      await proxy.start();
      restoredAt = Date.now();
    }
    const acceptedDuring = load.acceptedAt.filter((t) => t >= cutAt && t < restoredAt).length;
    const refused = load.refusals.filter((t) => t >= cutAt).length;
    await sleep(scaled(5000, 2000));
    await load.stop();

    const inbound = await tk.collect(Topics.inboundMessage.name);
    const seen = new Map<string, Set<string>>();
    const count = () => {
      seen.clear();
      for (const e of events<InboundMessageV1>(inbound.records)) {
        seen.set(e.data.messageId, (seen.get(e.data.messageId) ?? new Set<string>()).add(e.id));
      }
      return [...load.accepted].every((w) => seen.has(w));
    };
    await waitFor(count, { what: 'every acknowledged webhook downstream', timeoutMs: 240000, intervalMs: 1000 }).catch(() => undefined);
    count();
    const drainedAt = Date.now();
    const lost = [...load.accepted].filter((w) => !seen.has(w));
    const duplicates = [...seen.values()].reduce((n, ids) => n + ids.size - 1, 0);
    process.stdout.write(
      `\n${faultTable([
        {
          fault: `PostgreSQL unreachable ${Math.round((restoredAt - cutAt) / 1000)} s (ingress)`,
          load: `${load.sent} webhooks, 2 clients (${acceptedDuring} accepted during the outage)`,
          accepted: load.accepted.size,
          lost: lost.length,
          duplicates,
          refused,
          recoverySeconds: (drainedAt - restoredAt) / 1000,
        },
      ])}\n\n`,
    );

    // The receiver needs no database: webhooks kept arriving on the raw topic for the consumer to wait on.
    expect(acceptedDuring).toBeGreaterThan(0);
    expect(dlq.records).toHaveLength(0);
    expect(lost).toEqual([]);
    expect(duplicates).toBe(0);
  });
});
