import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Context } from '@opentelemetry/api';
import type { EncodeOptions, TopicSpec } from '@wa/contracts';
import { EventProducer, type Kafka, type KafkaOptions } from '@wa/kafka';
import { gauge, histogram } from '@wa/observability';
import { InjectEnv, KAFKA_CLIENT, KAFKA_OPTIONS, SERVICE_ENV } from '@wa/service-kit';
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

/** The webhook edge's own producer; the service's shared one stays idempotent for the outbox relay. */
export const WEBHOOK_PRODUCER = Symbol('WEBHOOK_PRODUCER');

/**
 * The platformatic client: a receiver replica's throughput is its CPU, and this client spends
 * about half of kafkajs's per record. It is never idempotent: a retried request may store a
 * webhook twice, which the raw record's deterministic id and the normalizer's dedupe absorb, as
 * they absorb Meta's own redeliveries. One acks=all request in flight by default
 * (WEBHOOK_KAFKA_IN_FLIGHT): the webhooks that arrive while it waits make up the next request, so
 * batches grow with the load, and every request costs a socket write that wakes the broker plus the
 * client's per-request work. Against 2 and 4 in flight (alternating A/B rounds on the bench load):
 * about 10 % less CPU per webhook and 17 % more webhooks per second; an idle edge still sends each
 * webhook at once.
 */
export const webhookProducerProvider = {
  provide: WEBHOOK_PRODUCER,
  inject: [KAFKA_CLIENT, KAFKA_OPTIONS, SERVICE_ENV],
  useFactory: async (kafka: Kafka, options: KafkaOptions, env: IngressEnv): Promise<EventProducer> => {
    const producer = new EventProducer(kafka, options, '/services/webhook-ingress', {
      maxInFlightRequests: env.WEBHOOK_KAFKA_IN_FLIGHT,
      client: 'platformatic',
    });
    await producer.connect();
    return producer;
  },
};

/**
 * Publishes a webhook's record and says whether Kafka holds it, within a deadline. The producer
 * already merges concurrent calls into acks=all produces; this adds the two things an HTTP
 * edge needs when Kafka is slow or gone: a bounded wait (answer 503 quickly so Meta retries) and
 * a bounded backlog (stop queueing once too many records wait).
 */
@Injectable()
export class DurablePublisher implements OnApplicationShutdown {
  private pending = 0;

  constructor(
    @Inject(WEBHOOK_PRODUCER) private readonly producer: EventProducer,
    @InjectEnv() private readonly env: IngressEnv,
  ) {}

  /** Runs after the HTTP server has closed: the answers still waiting get their acks first. */
  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect();
  }

  publish<T extends object & { tenantId: string }>(
    spec: TopicSpec<T>,
    data: T,
    options: Partial<EncodeOptions>,
    trace?: Context,
  ): Promise<DurableResult> {
    if (this.pending >= this.env.WEBHOOK_MAX_PENDING_PUBLISHES) {
      durableSeconds.observe({ topic: spec.name, outcome: 'overloaded' }, 0);
      return Promise.resolve({ outcome: 'overloaded' });
    }
    const started = performance.now();
    this.pending++;
    pendingGauge.set(this.pending);
    // One promise and one timer per webhook (this runs for every request): whichever of the ack,
    // the failure and the deadline comes first answers. The record may still be acked after we
    // gave up and answered 503: Meta then redelivers a record Kafka already has, which the
    // deterministic ids and the dedupe table absorb.
    return new Promise<DurableResult>((resolve) => {
      let answered = false;
      const answer = (result: DurableResult) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        durableSeconds.observe({ topic: spec.name, outcome: result.outcome }, (performance.now() - started) / 1000);
        resolve(result);
      };
      const settled = () => {
        this.pending--;
        pendingGauge.set(this.pending);
      };
      const timer = setTimeout(() => answer({ outcome: 'timeout' }), this.env.WEBHOOK_DURABLE_TIMEOUT_MS);
      let acked: Promise<void>;
      try {
        acked = this.producer.publish(spec, data, options, trace);
      } catch (error) {
        // A synchronous throw (a contract violation) settles as 'failed' too.
        acked = Promise.reject(error);
      }
      acked.then(
        () => {
          settled();
          answer({ outcome: 'stored' });
        },
        (error: unknown) => {
          settled();
          answer({ outcome: 'failed', error: (error as Error).message });
        },
      );
    });
  }
}
