import { BaseRpcContext, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import { topicByName, type EventEnvelope } from '@wa/contracts';
import type { ConsumerHost, RecordContext } from '../consumer-host';

/** What an `@EventPattern` handler gets as its second argument (`@Ctx()`). */
export class KafkaEventContext extends BaseRpcContext<[EventEnvelope, RecordContext]> {
  get envelope(): EventEnvelope {
    return this.args[0];
  }
  get record(): RecordContext {
    return this.args[1];
  }
}

/**
 * Lets services write `@EventPattern(Topics.x.name)` handlers while our ConsumerHost does the
 * consuming (ordering, retry topics, DLQ, tracing). Unlike the stock Kafka transport it keeps the
 * group id as given, never blocks a partition, and sees the handler's real error (the RPC
 * exception filter is bypassed: errors decide retry vs DLQ, so they must not be turned into values).
 */
export class KafkaTransportStrategy extends Server implements CustomTransportStrategy {
  constructor(private readonly host: ConsumerHost) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => void): void {
    for (const [pattern, handler] of this.messageHandlers) {
      const spec = topicByName(pattern);
      if (!spec) {
        callback(new Error(`@EventPattern('${pattern}') is not a topic in @wa/contracts`));
        return;
      }
      this.host.register(spec, async (envelope, record) => {
        const result = await handler(envelope.data, new KafkaEventContext([envelope, record]));
        if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
      });
    }
    this.host.start().then(
      () => callback(),
      (error) => callback(error),
    );
  }

  async close(): Promise<void> {
    await this.host.stop();
  }

  on(): void {
    throw new Error('KafkaTransportStrategy has no events to subscribe to');
  }

  unwrap<T>(): T {
    return this.host as T;
  }
}
