import { context } from '@opentelemetry/api';
import type { EntityManager } from 'typeorm';
import { Topics, type OutboundRequestV1, type OutboundResultV1 } from '@wa/contracts';
import { extractTraceContext, type Outbox } from '@wa/kafka';

export const PRIORITY_RANK: Record<string, number> = { reply: 0, notification: 1, bulk: 2 };

/** The fields of a message row a result needs. */
export interface ResultSource {
  request_id: string;
  tenant_id: string;
  phone_number_id: string;
  request: OutboundRequestV1;
  attempts: number;
  trace: Record<string, string> | null;
}

/**
 * Writes the request's result event into the outbox, in the caller's transaction (the state change
 * and the event commit together), in the trace of the request that asked for it.
 */
type ResultFields = Omit<
  OutboundResultV1,
  'tenantId' | 'requestId' | 'attempts' | 'requestedBy' | 'decidedAt' | 'callbackData' | 'phoneNumberId'
>;

function resultOf(row: ResultSource, fields: ResultFields): OutboundResultV1 {
  return {
    tenantId: row.tenant_id,
    requestId: row.request_id,
    attempts: row.attempts,
    requestedBy: row.request.requestedBy,
    decidedAt: new Date().toISOString(),
    ...(row.phone_number_id ? { phoneNumberId: row.phone_number_id } : {}),
    ...(row.request.callbackData ? { callbackData: row.request.callbackData } : {}),
    ...fields,
  };
}

export function addResult(outbox: Outbox, manager: EntityManager, row: ResultSource, fields: ResultFields): Promise<string> {
  const parent = row.trace ? extractTraceContext(row.trace) : context.active();
  return context.with(parent, () => outbox.add(manager, Topics.outboundResult, resultOf(row, fields)));
}

/**
 * Many result events in one outbox insert (the accepted path writes up to hundreds per flush at
 * 1,000 msg/s), each in the trace of its own request.
 */
export async function addResults(
  outbox: Outbox,
  manager: EntityManager,
  items: { row: ResultSource; fields: ResultFields }[],
): Promise<void> {
  await outbox.addMany(
    manager,
    items.map(({ row, fields }) => ({
      spec: Topics.outboundResult,
      data: resultOf(row, fields),
      ...(row.trace ? { parent: extractTraceContext(row.trace) } : {}),
    })),
  );
}

/** A JSON event for a message's history (retries, holds, uncertain sends). */
export function historyEvent(type: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify([{ at: new Date().toISOString(), type, ...fields }]);
}
