import { Controller, Get, NotFoundException, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, Roles, type Principal } from '@wa/auth';
import { maskPhone } from '@wa/observability';
import { STATUS_RANK } from '../statuses/message-status.consumer';

const PRIORITY_NAMES = ['reply', 'notification', 'bulk'];

interface MessageRow {
  request_id: string;
  tenant_id: string;
  phone_number_id: string;
  recipient: string;
  kind: string;
  priority: number;
  request: { requestedBy: string; callbackData?: string };
  state: string;
  attempts: number;
  wamid: string | null;
  message_status: string | null;
  sent_template: string | null;
  used_fallback: boolean;
  reason: string | null;
  detail: string | null;
  error: Record<string, unknown> | null;
  duplicate_wamids: string[] | null;
  events: Record<string, unknown>[];
  created_at: Date;
  first_sent_at: Date | null;
  decided_at: Date | null;
  due_at: Date;
}

/** Look up one send request and everything that happened to it, for the caller's tenant only. */
@ApiTags('messages')
@Controller('v1/messages')
@Roles('supervisor', 'agent', 'service')
export class MessagesController {
  constructor(private readonly dataSource: DataSource) {}

  @Get(':requestId')
  @ApiOperation({ summary: 'A send request: its outcome (accepted with wamid, or failed with reason), attempts and status history' })
  @ApiOkResponse({ description: 'The request and its history; 404 when it does not exist for your tenant' })
  async get(@Param('requestId', new ParseUUIDPipe()) requestId: string, @CurrentPrincipal() who: Principal) {
    const [row]: MessageRow[] = await this.dataSource.query(
      `SELECT request_id, tenant_id, phone_number_id, recipient, kind, priority, request, state, attempts, wamid, message_status, sent_template,
              used_fallback, reason, detail, error, duplicate_wamids, events, created_at, first_sent_at, decided_at, due_at
       FROM gateway.outbound_message WHERE request_id = $1 AND tenant_id = $2`,
      [requestId, who.tenant],
    );
    // Another tenant's request is indistinguishable from a missing one.
    if (!row) throw new NotFoundException({ code: 'not_found', message: `no send request ${requestId} for tenant ${who.tenant}` });

    const wamids = [row.wamid, ...(row.duplicate_wamids ?? [])].filter((w): w is string => Boolean(w));
    const statuses: { wamid: string; status: string; occurred_at: Date; errors: unknown }[] = await this.dataSource.query(
      `SELECT wamid, status, occurred_at, errors FROM gateway.message_status
       WHERE tenant_id = $3 AND (wamid = ANY($1::text[]) OR request_id = $2) ORDER BY occurred_at, recorded_at`,
      [wamids, requestId, who.tenant],
    );
    const own = statuses.filter((s) => s.wamid === row.wamid);
    const delivery = own.reduce<string | null>(
      (best, s) => (best === null || (STATUS_RANK[s.status] ?? 0) > (STATUS_RANK[best] ?? 0) ? s.status : best),
      null,
    );

    const history: Record<string, unknown>[] = [
      { at: iso(row.created_at), type: 'requested' },
      ...(row.first_sent_at ? [{ at: iso(row.first_sent_at), type: 'first-attempt' }] : []),
      ...row.events,
      ...(row.decided_at ? [{ at: iso(row.decided_at), type: row.state, ...(row.reason ? { reason: row.reason } : {}) }] : []),
      ...statuses.map((s) => ({
        at: iso(s.occurred_at),
        type: 'status',
        status: s.status,
        wamid: s.wamid,
        ...(s.errors ? { errors: s.errors } : {}),
      })),
    ].sort((a, b) => String(a.at).localeCompare(String(b.at)));

    return {
      requestId: row.request_id,
      tenantId: row.tenant_id,
      phoneNumberId: row.phone_number_id,
      recipient: maskPhone(row.recipient),
      kind: row.kind,
      priority: PRIORITY_NAMES[row.priority],
      requestedBy: row.request.requestedBy,
      callbackData: row.request.callbackData ?? null,
      state: row.state,
      outcome: row.state === 'accepted' || row.state === 'failed' ? row.state : 'pending',
      nextAttemptAt: row.state === 'queued' || row.state === 'uncertain' ? iso(row.due_at) : null,
      wamid: row.wamid,
      messageStatus: row.message_status,
      sentTemplate: row.sent_template,
      usedFallback: row.used_fallback,
      attempts: row.attempts,
      reason: row.reason,
      detail: row.detail,
      error: row.error,
      deliveryStatus: delivery,
      duplicateWamids: row.duplicate_wamids ?? [],
      createdAt: iso(row.created_at),
      decidedAt: row.decided_at ? iso(row.decided_at) : null,
      history,
    };
  }
}

function iso(value: Date | string): string {
  return new Date(value).toISOString();
}
