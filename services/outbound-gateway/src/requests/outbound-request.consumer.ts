import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { context, propagation } from '@opentelemetry/api';
import { DataSource } from 'typeorm';
import { checkOutboundRequest, Topics, type OutboundFailureReason, type OutboundRequestV1 } from '@wa/contracts';
import { Outbox, type KafkaEventContext } from '@wa/kafka';
import { counter } from '@wa/observability';
import { recipientId } from '../cloud-api/payload';
import { Dispatcher } from '../dispatch/dispatcher';
import { addResult, PRIORITY_RANK } from '../dispatch/results';
import { TenantDirectory } from '../tenancy/tenant-directory';

const intake = counter('gateway_requests_total', 'Send requests recorded, by outcome of the intake checks', ['outcome']);

/**
 * Records each send request once (requestId is the primary key, so a redelivered record is a no-op)
 * and returns at once: sending happens in the dispatcher, paced by the rate budget, so this
 * handler never sleeps on Meta's limits and never blocks a partition. Requests that can never be
 * sent (unknown tenant, broken limits) are failed here with a precise reason.
 */
@Controller()
export class OutboundRequestConsumer {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly dispatcher: Dispatcher,
    @Inject(TenantDirectory) private readonly tenants: TenantDirectory,
  ) {}

  @EventPattern(Topics.outboundRequest.name)
  async record(@Payload() request: OutboundRequestV1, @Ctx() _ctx: KafkaEventContext): Promise<void> {
    const trace: Record<string, string> = {};
    propagation.inject(context.active(), trace);

    const sender = this.tenants.resolve(request.tenantId, request.phoneNumberId);
    const recipient = recipientId(request) ?? request.to.bsuid ?? '';
    let failure: { reason: OutboundFailureReason; detail: string } | undefined;
    let phoneNumberId = request.phoneNumberId ?? '';
    if ('problem' in sender) {
      failure = { reason: sender.problem, detail: sender.detail };
    } else {
      phoneNumberId = sender.phone.id;
      const problems = checkOutboundRequest(request);
      if (!request.to.phone && !request.to.waId && request.to.bsuid) {
        failure = { reason: 'unsupported-recipient', detail: 'recipients known only by BSUID cannot be messaged yet; give phone or waId' };
      } else if (problems.length) {
        failure = { reason: 'invalid-request', detail: problems.join('; ').slice(0, 2000) };
      }
    }

    const row = {
      request_id: request.requestId,
      tenant_id: request.tenantId,
      phone_number_id: phoneNumberId,
      request,
      attempts: 0,
      trace,
    };
    const values = [
      request.requestId,
      request.tenantId,
      phoneNumberId,
      recipient,
      `${phoneNumberId}:${recipient}`,
      request.kind,
      PRIORITY_RANK[request.priority],
      JSON.stringify(request),
      JSON.stringify(trace),
    ];

    if (!failure) {
      const inserted: unknown[] = await this.dataSource.query(
        `INSERT INTO gateway.outbound_message (request_id, tenant_id, phone_number_id, recipient, lane, kind, priority, request, trace, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued') ON CONFLICT (request_id) DO NOTHING RETURNING 1`,
        values,
      );
      intake.inc({ outcome: inserted.length ? 'queued' : 'duplicate' });
      if (inserted.length) this.dispatcher.wake(phoneNumberId);
      return;
    }

    await this.dataSource.transaction(async (manager) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO gateway.outbound_message (request_id, tenant_id, phone_number_id, recipient, lane, kind, priority, request, trace,
                                               state, reason, detail, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'failed', $10, $11, now()) ON CONFLICT (request_id) DO NOTHING RETURNING 1`,
        [...values, failure.reason, failure.detail],
      );
      intake.inc({ outcome: inserted.length ? `failed:${failure.reason}` : 'duplicate' });
      if (inserted.length)
        await addResult(this.outbox, manager, row, { outcome: 'failed', reason: failure.reason, detail: failure.detail });
    });
  }
}
