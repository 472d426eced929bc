import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  citizenKeyOf,
  Topics,
  type CallcenterDeflectionResultV1,
  type CallcenterDeflectionV1,
  type ConversationOwnerV1,
  type DeflectionOutcome,
  type InboundMessageV1,
} from '@wa/contracts';
import { applyOwnerChange, uuidV5 } from '@wa/conversation';
import { InjectEnv } from '@wa/service-kit';
import type { HandoffEnv } from '../config/env';
import { DepartmentRepository, departmentName } from '../store/departments.repository';
import { DeflectionRepository, type DeflectionRow } from '../store/deflections.repository';
import { ConsoleEventRepository } from '../store/console-events.repository';
import { OwnerRepository } from '../store/owners.repository';
import { ROUTER, RouterService, RoutingError } from './router.service';

export const DEFLECTION_TEMPLATE = 'continue_on_whatsapp';

/**
 * Call-centre deflection. The Cloud API has no "is this number on WhatsApp" look-up: sending the
 * `continue_on_whatsapp` template is the check. Delivered → `offered`; 131026 or nothing delivered
 * before the deadline → `not_reachable` (the caller stays in the voice queue); the gateway's
 * `opted-out` → `opted_out`. Every outcome is published on callcenter.deflection.result.v1.
 */
@Injectable()
export class DeflectionService {
  constructor(
    private readonly router: RouterService,
    private readonly deflections: DeflectionRepository,
    private readonly departments: DepartmentRepository,
    private readonly owners: OwnerRepository,
    private readonly events: ConsoleEventRepository,
    @InjectEnv() private readonly env: HandoffEnv,
  ) {}

  /** Starts (once per call) and returns the row; the caller waits for the outcome with {@link wait}. */
  async start(request: CallcenterDeflectionV1, now = new Date()): Promise<DeflectionRow> {
    const citizenKey = citizenKeyOf(request.contact);
    if (!citizenKey) throw new RoutingError(400, 'no_number', 'contact needs a phone (E.164) or waId');
    return this.router.dataSource.transaction(async (manager) => {
      const department = await this.departments.get(manager, request.tenantId, request.department);
      if (!department) throw new RoutingError(404, 'unknown_department', `no department ${request.department} in this tenant`);
      const requestId = uuidV5(JSON.stringify([request.tenantId, 'deflection', request.callId]));
      const deadline = new Date(now.getTime() + this.env.HANDOFF_DEFLECTION_TIMEOUT_MS);
      const { row, created } = await this.deflections.create(manager, {
        tenantId: request.tenantId,
        callId: request.callId,
        citizenKey,
        contact: request.contact,
        department: request.department,
        language: request.language,
        priority: request.priority ?? 50,
        requestId,
        requestedAt: now,
        deadlineAt: deadline,
      });
      if (!created) return row;
      const notice = this.router.replies.buildNotice({
        tenantId: request.tenantId,
        to: request.contact,
        requestId,
        template: {
          name: DEFLECTION_TEMPLATE,
          language: request.language,
          parameters: { department: departmentName(department, request.language) },
        },
        priority: 'reply',
        expiresAt: deadline.toISOString(),
      });
      await this.router.outbox.addMany(manager, [this.router.replies.entry(notice)]);
      return row;
    });
  }

  /** Polls the row until decided or the deadline (plus a margin for the sweeper) passes. */
  async wait(tenantId: string, callId: string, signal?: AbortSignal): Promise<DeflectionRow> {
    for (;;) {
      const row = (await this.deflections.get(this.router.dataSource.manager, tenantId, callId))!;
      if (row.status !== 'pending' || Date.now() > row.deadlineAt.getTime() + 5000 || signal?.aborted) return row;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async decide(
    manager: EntityManager,
    row: DeflectionRow,
    d: { outcome: DeflectionOutcome; detail: string; errorCode?: number },
    now = new Date(),
  ) {
    if (!(await this.deflections.decide(manager, row.tenantId, row.callId, d, now))) return;
    const result: CallcenterDeflectionResultV1 = {
      tenantId: row.tenantId,
      callId: row.callId,
      outcome: d.outcome,
      detail: d.detail,
      ...(d.errorCode !== undefined ? { errorCode: d.errorCode } : {}),
      occurredAt: now.toISOString(),
    };
    await this.router.outbox.addMany(manager, [{ spec: Topics.callcenterDeflectionResult, data: result }]);
    await this.events.append(manager, row.tenantId, [
      {
        type: 'deflection.decided',
        department: null,
        data: { callId: row.callId, department: row.department, outcome: d.outcome, detail: d.detail },
      },
    ]);
  }

  /**
   * A free-text reply to the offer (the template's button is the chatbot's: its flow hands off
   * with reason `callcenter`). While the bot owns the conversation, the router asks for the
   * handoff itself on conversation.owner.v1 and queues the caller with their priority.
   */
  async onInbound(manager: EntityManager, message: InboundMessageV1, now = new Date()): Promise<boolean> {
    if (message.type === 'button' || message.type === 'interactive' || message.type === 'reaction' || message.type === 'system')
      return false;
    const citizenKey = citizenKeyOf(message.contact);
    if (!citizenKey) return false;
    const offer = await this.deflections.awaitingReply(
      manager,
      message.tenantId,
      citizenKey,
      new Date(now.getTime() - this.env.HANDOFF_DEFLECTION_REPLY_WINDOW_MS),
    );
    if (!offer) return false;
    const owner = await this.owners.lock(manager, message.tenantId, citizenKey);
    const conversationId = uuidV5(JSON.stringify([message.tenantId, 'deflection', offer.callId, 'conversation']));
    const decision = applyOwnerChange(owner, {
      change: 'handoff_requested',
      conversationId,
      department: offer.department,
      occurredAt: message.sentAt,
    });
    if (!decision.applied) return false;
    const contact = {
      ...(message.contact.waId ? { waId: message.contact.waId } : {}),
      ...(message.contact.bsuid ? { bsuid: message.contact.bsuid } : {}),
      ...(message.contact.profileName ? { profileName: message.contact.profileName } : {}),
    };
    const change: ConversationOwnerV1 = {
      tenantId: message.tenantId,
      citizenKey,
      contact,
      conversationId,
      change: 'handoff_requested',
      department: offer.department,
      language: offer.language,
      reason: 'callcenter',
      changedBy: ROUTER,
      occurredAt: message.sentAt,
    };
    await this.router.outbox.addMany(manager, [{ spec: Topics.conversationOwner, data: change }]);
    await this.router.enqueue(
      manager,
      {
        tenantId: message.tenantId,
        conversationId,
        citizenKey,
        contact,
        department: offer.department,
        language: offer.language,
        reason: 'callcenter',
        priority: offer.priority,
        transcript: [{ author: 'citizen', text: message.text ?? message.media?.caption ?? `[${message.type}]`, at: message.sentAt }],
        requestedAt: message.sentAt,
      },
      now,
    );
    await manager.query(`UPDATE handoff.conversation SET phone_number_id = $3 WHERE tenant_id = $1 AND id = $2`, [
      message.tenantId,
      conversationId,
      message.phoneNumberId,
    ]);
    return true;
  }
}
