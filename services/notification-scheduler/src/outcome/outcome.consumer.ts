import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { parseGatewayCallbackData, Topics, type MessageStatusV1, type NotificationOutcome, type OutboundResultV1 } from '@wa/contracts';
import { Outbox } from '@wa/kafka';
import { noticeClient } from '../dispatch/notice-client';
import { returnedRows } from '../common/tenants';
import { NOTICE_COLUMNS, outcomeItem, reportOutcomes, type NoticeRow } from './outcomes';

/** 131026: not on WhatsApp, old app or terms not accepted (reference §7). */
const NOT_ON_WHATSAPP = 131026;

/**
 * The states a notice moves through after dispatch. Statuses arrive in any order (a `read` may
 * come without `delivered`, a result after the status webhook), so each transition names the
 * states it may come from: the machine only moves forward, and a replayed event finds no row to
 * move (no second outcome).
 */
const FROM: Record<string, string[]> = {
  sent: ['dispatched'],
  delivered: ['dispatched', 'sent'],
  read: ['dispatched', 'sent', 'delivered'],
  failed: ['dispatched', 'sent'],
  not_on_whatsapp: ['dispatched', 'sent'],
  opted_out: ['dispatched', 'sent'],
  no_approved_template: ['dispatched'],
  invalid_parameters: ['dispatched'],
  expired_before_sending: ['dispatched'],
};

interface Transition {
  outcome: NotificationOutcome;
  errorCode?: string;
  detail?: string;
  wamid?: string;
}

/** A failed gateway result as the agency should read it. */
export function resultTransition(result: OutboundResultV1): Transition {
  if (result.outcome === 'accepted') return { outcome: 'sent', wamid: result.wamid };
  const code = result.error?.code;
  const detail = result.detail ?? result.error?.message;
  if (code === NOT_ON_WHATSAPP || result.reason === 'undeliverable') {
    return { outcome: 'not_on_whatsapp', errorCode: String(code ?? result.reason), detail };
  }
  switch (result.reason) {
    case 'opted-out':
      return { outcome: 'opted_out', errorCode: result.reason, detail };
    case 'template-not-approved':
      return { outcome: 'no_approved_template', errorCode: result.reason, detail };
    case 'template-params':
      return { outcome: 'invalid_parameters', errorCode: result.reason, detail };
    case 'expired':
      return { outcome: 'expired_before_sending', errorCode: result.reason, detail };
    default:
      return { outcome: 'failed', errorCode: code !== undefined ? String(code) : (result.reason ?? 'unknown'), detail };
  }
}

export function statusTransition(status: MessageStatusV1): Transition | undefined {
  switch (status.status) {
    case 'sent':
      return { outcome: 'sent', wamid: status.messageId };
    case 'delivered':
      return { outcome: 'delivered', wamid: status.messageId };
    case 'read':
      return { outcome: 'read', wamid: status.messageId };
    case 'failed': {
      const error = status.errors?.[0];
      if (error?.code === NOT_ON_WHATSAPP)
        return { outcome: 'not_on_whatsapp', errorCode: String(error.code), detail: error.title, wamid: status.messageId };
      return {
        outcome: 'failed',
        errorCode: error ? String(error.code) : undefined,
        detail: error?.message ?? error?.title,
        wamid: status.messageId,
      };
    }
    default:
      return undefined; // played: voice notes only
  }
}

/**
 * Follows each dispatched notice through the gateway's result and Meta's status webhooks and
 * reports every step forward to the agency (sent, delivered, read, or why it failed).
 */
@Controller()
export class OutcomeConsumer {
  private readonly log = new Logger('Outcomes');

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  @EventPattern(Topics.outboundResult.name)
  async onResult(@Payload() result: OutboundResultV1): Promise<void> {
    if (!noticeClient.isMine(result)) return; // someone else's send
    await this.move(result.tenantId, { id: result.requestId }, resultTransition(result), new Date(result.decidedAt));
  }

  @EventPattern(Topics.messageStatus.name)
  async onStatus(@Payload() status: MessageStatusV1): Promise<void> {
    const transition = statusTransition(status);
    if (!transition) return;
    // The gateway echoes `<requestId>|<callbackData>`; our request id is the notice id.
    const named = parseGatewayCallbackData(status.bizOpaqueCallbackData);
    await this.move(
      status.tenantId,
      named ? { id: named.requestId } : { wamid: status.messageId },
      transition,
      new Date(status.occurredAt),
    );
  }

  private async move(tenantId: string, by: { id: string } | { wamid: string }, t: Transition, at: Date): Promise<void> {
    const from = FROM[t.outcome];
    if (!from) return;
    await this.dataSource.transaction(async (m) => {
      const rows = returnedRows<NoticeRow>(
        await m.query(
          `UPDATE scheduler.notice SET status = $3, wamid = COALESCE($4, wamid), error_code = COALESCE($5, error_code),
                detail = COALESCE($6, detail), outcome_at = $7, updated_at = now()
         WHERE tenant_id = $1 AND ${'id' in by ? 'id = $2::uuid' : 'wamid = $2'} AND status = ANY($8::text[])
         RETURNING ${NOTICE_COLUMNS}`,
          [tenantId, 'id' in by ? by.id : by.wamid, t.outcome, t.wamid ?? null, t.errorCode ?? null, t.detail ?? null, at, from],
        ),
      );
      if (rows.length === 0) return; // not ours, unknown, or already further along
      await reportOutcomes(m, [outcomeItem(rows[0], t.outcome, at, { errorCode: t.errorCode, detail: t.detail, wamid: t.wamid })]);
      if (t.outcome !== 'sent' && t.outcome !== 'delivered' && t.outcome !== 'read') {
        this.log.log({ tenant: tenantId, notice: rows[0].id, outcome: t.outcome, code: t.errorCode }, 'notice failed');
      }
    });
  }
}
