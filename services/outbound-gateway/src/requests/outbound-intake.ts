import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { checkOutboundRequest, citizenKeyOf, Topics, type OutboundFailureReason, type OutboundRequestV1 } from '@wa/contracts';
import { ConsumerHost, Outbox, type BatchItem } from '@wa/kafka';
import { counter } from '@wa/observability';
import { rows as sql } from '../db';
import { Dispatcher } from '../dispatch/dispatcher';
import { addResult, PRIORITY_RANK } from '../dispatch/results';
import { TenantDirectory } from '../tenancy/tenant-directory';

const intake = counter('gateway_requests_total', 'Send requests recorded, by outcome of the intake checks', ['outcome']);

interface Recorded {
  request: OutboundRequestV1;
  phoneNumberId: string;
  /** The citizen key: pacing lane, window and consent lookups (never what is sent to Meta). */
  recipient: string;
  trace: Record<string, string>;
  failure?: { reason: OutboundFailureReason; detail: string };
}

/**
 * Records send requests, a fetched batch at a time: one multi-row insert keyed by requestId (so a
 * redelivered request is a no-op), then returns. Sending happens in the dispatcher, paced by the
 * rate budget, so the consumer never waits on Meta's limits and never blocks a partition.
 * Requests that can never be sent (unknown tenant or number, a broken WhatsApp limit) are failed
 * here with a precise reason, their result event written in the same transaction.
 */
@Injectable()
export class OutboundIntake {
  constructor(
    host: ConsumerHost,
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly dispatcher: Dispatcher,
    @Inject(TenantDirectory) private readonly tenants: TenantDirectory,
  ) {
    // In the constructor: consumers start before Nest's init hooks run. Batches of 100: one insert
    // per 100 requests, and the decoding between awaits stays short enough not to delay the
    // dispatcher's slot timers in the same event loop.
    host.registerBatch(Topics.outboundRequest, (items) => this.record(items), { maxBatchSize: 100 });
  }

  /** What intake knows about a request without any state: who sends, to whom, and whether it can ever go. */
  examine(request: OutboundRequestV1, headers: Record<string, string>): Recorded {
    // The producer's trace context: the dispatcher continues this trace when it sends.
    const trace: Record<string, string> = {};
    if (headers.traceparent) trace.traceparent = headers.traceparent;
    if (headers.tracestate) trace.tracestate = headers.tracestate;
    const recipient = citizenKeyOf(request.to) ?? '';
    const sender = this.tenants.resolve(request.tenantId, request.phoneNumberId);
    if ('problem' in sender) {
      return {
        request,
        phoneNumberId: request.phoneNumberId ?? '',
        recipient,
        trace,
        failure: { reason: sender.problem, detail: sender.detail },
      };
    }
    const base = { request, phoneNumberId: sender.phone.id, recipient, trace };
    if (!request.to.phone && !request.to.waId && request.to.bsuid) {
      return {
        ...base,
        failure: { reason: 'unsupported-recipient', detail: 'recipients known only by BSUID cannot be messaged yet; give phone or waId' },
      };
    }
    const problems = checkOutboundRequest(request);
    if (problems.length) return { ...base, failure: { reason: 'invalid-request', detail: problems.join('; ').slice(0, 2000) } };
    return base;
  }

  async record(items: BatchItem[]): Promise<void> {
    const seen = new Set<string>();
    const examined: Recorded[] = [];
    for (const { envelope, record } of items) {
      const request = envelope.data as OutboundRequestV1;
      if (seen.has(request.requestId)) {
        intake.inc({ outcome: 'duplicate' });
        continue;
      }
      seen.add(request.requestId);
      examined.push(this.examine(request, record.headers));
    }
    const queued = examined.filter((e) => !e.failure);
    const failed = examined.filter((e) => e.failure);
    const woken = new Set<string>();

    await this.dataSource.transaction(async (manager) => {
      if (queued.length) {
        // One JSON document for the batch: pg would quote and escape every element of a jsonb[]
        // array parameter in JavaScript (two regex passes over each request), JSON.stringify is native.
        const inserted = await sql<{ phone_number_id: string }>(
          manager,
          `INSERT INTO gateway.outbound_message (request_id, tenant_id, phone_number_id, recipient, lane, kind, priority, request, trace, state)
           SELECT request_id, tenant_id, phone_number_id, recipient, phone_number_id || ':' || recipient, kind, priority, request, trace, 'queued'
           FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (request_id uuid, tenant_id text, phone_number_id text, recipient text, kind text,
                                                             priority smallint, request jsonb, trace jsonb))
                WITH ORDINALITY AS r(request_id, tenant_id, phone_number_id, recipient, kind, priority, request, trace, ord)
           ORDER BY ord
           ON CONFLICT (request_id) DO NOTHING
           RETURNING phone_number_id`,
          [
            JSON.stringify(
              queued.map((e) => ({
                request_id: e.request.requestId,
                tenant_id: e.request.tenantId,
                phone_number_id: e.phoneNumberId,
                recipient: e.recipient,
                kind: e.request.kind,
                priority: PRIORITY_RANK[e.request.priority],
                request: e.request,
                trace: e.trace,
              })),
            ),
          ],
        );
        intake.inc({ outcome: 'queued' }, inserted.length);
        intake.inc({ outcome: 'duplicate' }, queued.length - inserted.length);
        for (const row of inserted) woken.add(row.phone_number_id);
      }
      for (const e of failed) {
        const failure = e.failure!;
        const inserted = await sql(
          manager,
          `INSERT INTO gateway.outbound_message (request_id, tenant_id, phone_number_id, recipient, lane, kind, priority, request, trace,
                                                 state, reason, detail, decided_at)
           VALUES ($1, $2, $3, $4, $3 || ':' || $4, $5, $6, $7, $8, 'failed', $9, $10, now()) ON CONFLICT (request_id) DO NOTHING RETURNING 1`,
          [
            e.request.requestId,
            e.request.tenantId,
            e.phoneNumberId,
            e.recipient,
            e.request.kind,
            PRIORITY_RANK[e.request.priority],
            JSON.stringify(e.request),
            JSON.stringify(e.trace),
            failure.reason,
            failure.detail,
          ],
        );
        intake.inc({ outcome: inserted.length ? `failed:${failure.reason}` : 'duplicate' });
        if (!inserted.length) continue;
        const row = {
          request_id: e.request.requestId,
          tenant_id: e.request.tenantId,
          phone_number_id: e.phoneNumberId,
          request: e.request,
          attempts: 0,
          trace: e.trace,
        };
        await addResult(this.outbox, manager, row, { outcome: 'failed', reason: failure.reason, detail: failure.detail });
      }
    });
    for (const phone of woken) this.dispatcher.wake(phone);
  }
}
