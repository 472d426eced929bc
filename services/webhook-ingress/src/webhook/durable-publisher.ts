import { Injectable } from '@nestjs/common';
import type { EncodeOptions, TopicSpec } from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { gauge, histogram } from '@wa/observability';
import { InjectEnv } from '@wa/service-kit';
import type { IngressEnv } from '../config/env';

export type DurableOutcome = 'stored' | 'timeout' | 'failed' | 'overloaded';

export interface DurableResult {
  outcome: DurableOutcome;
  /** Why Kafka refused, when it did (for the log; never sent to the caller). */
  error?: string;
}

const durableSeconds = histogram(
  'webhook_durable_wait_seconds',
  'Time from signature check to Kafka acknowledging the record (acks=all), by outcome',
  ['topic', 'outcome'],
  [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
);
const pendingGauge = gauge('webhook_pending_publishes', 'Webhook records waiting for a Kafka acknowledgement', []);

/**
 * Publishes a webhook's record and says whether Kafka holds it, within a deadline. The producer
 * already merges concurrent calls into one acks=all produce; this adds the two things an HTTP
 * edge needs when Kafka is slow or gone: a bounded wait (answer 503 quickly so Meta retries) and
 * a bounded backlog (stop queueing once too many records wait).
 */
@Injectable()
export class DurablePublisher {
  private pending = 0;

  constructor(
    private readonly producer: EventProducer,
    @InjectEnv() private readonly env: IngressEnv,
  ) {}

  async publish<T extends object & { tenantId: string }>(
    spec: TopicSpec<T>,
    data: T,
    options: Partial<EncodeOptions>,
  ): Promise<DurableResult> {
    if (this.pending >= this.env.WEBHOOK_MAX_PENDING_PUBLISHES) {
      durableSeconds.observe({ topic: spec.name, outcome: 'overloaded' }, 0);
      return { outcome: 'overloaded' };
    }
    const stop = durableSeconds.startTimer({ topic: spec.name });
    this.pending++;
    pendingGauge.set(this.pending);
    let timer: NodeJS.Timeout | undefined;
    // The record may still be acked after we gave up and answered 503: Meta then redelivers a
    // record Kafka already has, which the deterministic ids and the dedupe table absorb.
    // async so that a synchronous throw (a contract violation) also settles as 'failed'.
    const acked = (async (): Promise<DurableResult> => {
      await this.producer.publish(spec, data, options);
      return { outcome: 'stored' };
    })().catch((error: unknown): DurableResult => ({ outcome: 'failed', error: (error as Error).message }));
    void acked.finally(() => {
      this.pending--;
      pendingGauge.set(this.pending);
    });
    const deadline = new Promise<DurableResult>((resolve) => {
      timer = setTimeout(() => resolve({ outcome: 'timeout' }), this.env.WEBHOOK_DURABLE_TIMEOUT_MS);
    });
    const result = await Promise.race([acked, deadline]);
    clearTimeout(timer);
    stop({ outcome: result.outcome });
    return result;
  }
}
