import { Topics, type WebhookRawV2 } from '@wa/contracts';
import type { EventProducer } from '@wa/kafka';
import { metricsRegistry } from '@wa/observability';
import type { IngressEnv } from '../src/config/env';
import { DurablePublisher } from '../src/webhook/durable-publisher';

// The producer's acknowledgement is what the publisher races; a fake one lets each outcome be
// forced (the real broker paths, Kafka down and back, are in kafka-outage.int-spec.ts).
function fakeProducer(behaviour: () => Promise<void>): EventProducer {
  return { publish: behaviour } as unknown as EventProducer;
}

const raw: WebhookRawV2 = {
  tenantId: 'roads-agency',
  appId: 'roads-app',
  receivedAt: '2026-11-26T10:00:00.000Z',
  body: '{}',
  signature: `sha256=${'0'.repeat(64)}`,
};
const env = { WEBHOOK_DURABLE_TIMEOUT_MS: 50, WEBHOOK_MAX_PENDING_PUBLISHES: 2 } as IngressEnv;
const publish = (publisher: DurablePublisher) => publisher.publish(Topics.webhookRaw, raw, {});

async function pendingGauge(): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('webhook_pending_publishes')!.get();
  return metric.values[0]?.value ?? 0;
}

describe('DurablePublisher (the webhook answer: stored, or a quick 503)', () => {
  it('says stored once the producer has the acks', async () => {
    await expect(
      publish(
        new DurablePublisher(
          fakeProducer(async () => undefined),
          env,
        ),
      ),
    ).resolves.toEqual({ outcome: 'stored' });
  });

  it('says failed, with the reason, when the produce fails or the record is refused on the spot', async () => {
    const rejecting = new DurablePublisher(
      fakeProducer(() => Promise.reject(new Error('broker gone'))),
      env,
    );
    await expect(publish(rejecting)).resolves.toEqual({ outcome: 'failed', error: 'broker gone' });
    const throwing = new DurablePublisher(
      fakeProducer(() => {
        throw new Error('contract violation');
      }),
      env,
    );
    await expect(publish(throwing)).resolves.toEqual({ outcome: 'failed', error: 'contract violation' });
  });

  it('gives up at the deadline, still counts the record as pending until Kafka settles it, and refuses beyond the backlog limit', async () => {
    const acks: (() => void)[] = [];
    const publisher = new DurablePublisher(
      fakeProducer(() => new Promise<void>((resolve) => acks.push(resolve))),
      env,
    );
    const started = Date.now();
    const answers = await Promise.all([publish(publisher), publish(publisher)]);
    expect(answers).toEqual([{ outcome: 'timeout' }, { outcome: 'timeout' }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    // Both records may still be acked: they stay pending, so a third is refused at once.
    expect(await pendingGauge()).toBe(2);
    await expect(publish(publisher)).resolves.toEqual({ outcome: 'overloaded' });
    acks.forEach((ack) => ack());
    await new Promise((resolve) => setImmediate(resolve));
    expect(await pendingGauge()).toBe(0);
    // The backlog is free again: the next webhook is taken.
    acks.length = 0;
    const next = publish(publisher);
    acks[0]();
    await expect(next).resolves.toEqual({ outcome: 'stored' });
  });
});
