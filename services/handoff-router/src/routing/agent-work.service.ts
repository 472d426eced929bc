import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  parseGatewayCallbackData,
  type HandoffMessageV1,
  type MessageStatusV1,
  type OutboundRequestV1,
  type OutboundResultV1,
  type TemplateRef,
} from '@wa/contracts';
import { uuidV5 } from '@wa/conversation';
import { renderTemplate } from '@wa/templates';
import { REENGAGE_TEMPLATE, composerState, replyPlan, type ReplyKind } from '../rules/composer';
import { explainFailure } from '../rules/meta-errors';
import { citizenText, parseRating } from '../rules/texts';
import { ConsoleEventRepository } from '../store/console-events.repository';
import { ConversationRepository, type ConversationRow } from '../store/conversations.repository';
import { MessageRepository, type MessageRow } from '../store/messages.repository';
import { TemplateRepository } from '../store/templates.repository';
import { RouterService, RoutingError } from './router.service';
import { lineOf } from './views';

export interface AgentReply {
  kind: ReplyKind;
  text?: string;
  media?: { link?: string; id?: string; assetId?: string; caption?: string; filename?: string };
  template?: { name: string; language: string; parameters?: Record<string, string> };
  /** The console's id for this reply: a retry with the same id is the same reply (sent once). */
  clientMessageId?: string;
}

/**
 * An agent's work on a conversation (replies, held replies and re-engagement, delivery and Meta's
 * errors) and the citizen's side of it (messages while with an agent, the survey answer).
 */
@Injectable()
export class AgentWorkService {
  constructor(
    private readonly router: RouterService,
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly templates: TemplateRepository,
    private readonly events: ConsoleEventRepository,
  ) {}

  async reply(tenantId: string, conversationId: string, by: { agentId: string; supervisor: boolean }, body: AgentReply, now = new Date()) {
    return this.router.dataSource.transaction(async (manager) => {
      const row = await this.conversations.get(manager, tenantId, conversationId, true);
      if (!row) throw new RoutingError(404, 'unknown_conversation', `no conversation ${conversationId}`);
      if (row.agentId !== by.agentId && !(by.supervisor && row.state === 'assigned'))
        throw new RoutingError(
          row.state === 'closed' ? 409 : 403,
          row.state === 'closed' ? 'conversation_closed' : 'not_yours',
          row.state === 'closed'
            ? 'the conversation is closed; the citizen is back with the bot'
            : 'this conversation is not assigned to you',
        );
      if (body.clientMessageId) {
        const { row: existing } = {
          row: (await this.messages.transcript(manager, tenantId, row.id)).find((m) => m.clientMessageId === body.clientMessageId),
        };
        if (existing) return lineOf(existing);
      }
      const plan = replyPlan({ kind: body.kind, state: row.state, lastInboundAt: row.lastInboundAt, reengagedAt: row.reengagedAt, now });
      if (plan.action === 'refuse') throw new RoutingError(409, plan.code, plan.message);
      const template = body.kind === 'template' ? await this.checkTemplate(manager, row, body) : undefined;
      const content = this.contentOf(body);
      const id = randomUUID();
      const requestId = uuidV5(JSON.stringify([tenantId, 'agent-reply', row.id, body.clientMessageId ?? id]));
      const { row: message } = await this.messages.add(manager, tenantId, {
        id,
        conversationId: row.id,
        author: 'agent',
        agentId: by.agentId,
        kind: body.kind,
        text: body.kind === 'text' ? (body.text ?? null) : (body.media?.caption ?? body.text ?? null),
        media: body.media ? { ...body.media } : null,
        template: template ? { ...template } : null,
        clientMessageId: body.clientMessageId,
        requestId,
        status: plan.action === 'hold' ? 'held' : 'pending',
        at: now,
      });
      const entries = [];
      if (plan.action === 'send') entries.push(this.router.replies.entry(this.request(row, requestId, body.kind, content, template)));
      if (plan.action === 'hold' && plan.reengage) {
        const notice = this.router.replies.buildNotice({
          tenantId,
          to: row.contact,
          requestId: uuidV5(JSON.stringify([tenantId, 'reengage', row.id, id])),
          template: { name: REENGAGE_TEMPLATE, language: row.language, parameters: { first_name: firstName(row) } },
          priority: 'reply',
          phoneNumberId: row.phoneNumberId ?? undefined,
        });
        entries.push(this.router.replies.entry(notice));
        await this.conversations.markReengaged(manager, tenantId, row.id, now);
        const { row: sys } = await this.messages.add(manager, tenantId, {
          id: randomUUID(),
          conversationId: row.id,
          author: 'system',
          kind: 'template',
          text: `The 24-hour window is closed: ${REENGAGE_TEMPLATE} was sent; the reply goes out when the citizen answers.`,
          template: { name: REENGAGE_TEMPLATE, language: row.language },
          requestId: notice.requestId,
          status: 'pending',
          at: now,
        });
        await this.lineEvent(manager, row, sys);
      }
      await this.router.outbox.addMany(manager, entries);
      await this.lineEvent(manager, row, message);
      return lineOf(message);
    });
  }

  private async checkTemplate(manager: EntityManager, row: ConversationRow, body: AgentReply): Promise<TemplateRef> {
    const t = body.template;
    if (!t) throw new RoutingError(400, 'template_required', 'kind template needs template {name, language, parameters}');
    const stored = await this.templates.get(manager, row.tenantId, t.name, t.language);
    if (!stored) throw new RoutingError(422, 'unknown_template', `no template ${t.name} in ${t.language}`);
    if (stored.status !== 'APPROVED') throw new RoutingError(422, 'template_not_approved', `${t.name} (${t.language}) is ${stored.status}`);
    const rendered = renderTemplate(stored, { parameters: t.parameters ?? {} });
    if (!rendered.ok)
      throw new RoutingError(422, 'template_parameters', `the values do not fit ${t.name}: ${rendered.errors.join('; ')}`, {
        errors: rendered.errors,
      });
    return { name: t.name, language: t.language, ...(t.parameters ? { parameters: t.parameters } : {}) };
  }

  private contentOf(body: AgentReply): Record<string, unknown> {
    if (body.kind === 'text') {
      if (!body.text?.trim()) throw new RoutingError(400, 'empty_reply', 'a text reply needs text');
      return { body: body.text };
    }
    if (body.kind === 'template') return {};
    if (!body.media || [body.media.link, body.media.id, body.media.assetId].filter(Boolean).length !== 1)
      throw new RoutingError(400, 'media_required', `a ${body.kind} reply needs media with exactly one of link, id or assetId`);
    const { link, id, assetId, caption, filename } = body.media;
    return {
      ...(link ? { link } : {}),
      ...(id ? { id } : {}),
      ...(assetId ? { assetId } : {}),
      ...(caption && body.kind !== 'audio' ? { caption } : {}),
      ...(filename && body.kind === 'document' ? { filename } : {}),
    };
  }

  private request(
    row: ConversationRow,
    requestId: string,
    kind: ReplyKind,
    content: Record<string, unknown>,
    template?: TemplateRef,
  ): OutboundRequestV1 {
    if (kind === 'template')
      return this.router.replies.buildNotice({
        tenantId: row.tenantId,
        to: row.contact,
        requestId,
        template: template!,
        priority: 'reply',
        phoneNumberId: row.phoneNumberId ?? undefined,
      });
    const [request] = this.router.replies.buildReplies(
      { tenantId: row.tenantId, to: row.contact, inboundMessageId: `agent:${requestId}`, phoneNumberId: row.phoneNumberId ?? undefined },
      [{ kind, content }],
    );
    return { ...request, requestId };
  }

  /** A citizen message while an agent (or the survey) has the conversation. */
  async onCitizenMessage(manager: EntityManager, m: HandoffMessageV1, now = new Date()): Promise<void> {
    const row =
      (await this.conversations.get(manager, m.tenantId, m.conversationId, true)) ??
      (await this.conversations.openOf(manager, m.tenantId, m.citizenKey));
    if (!row) return;
    const at = new Date(m.line.at);
    const { row: line, created } = await this.messages.add(manager, m.tenantId, {
      id: uuidV5(JSON.stringify([m.tenantId, row.id, 'inbound', m.messageId])),
      conversationId: row.id,
      author: 'citizen',
      kind: 'text',
      text: m.line.text,
      sourceId: m.messageId,
      at,
    });
    if (!created) return;
    await this.conversations.touchInbound(manager, m.tenantId, row.id, at);
    await this.lineEvent(manager, row, line);
    if (row.state === 'survey') {
      const rating = parseRating(m.line.text);
      const thanks =
        rating !== undefined
          ? this.router.textEntry({ ...row, lastInboundAt: at }, citizenText('survey_thanks', row.language), 'survey-thanks', now)
          : undefined;
      if (thanks) await this.router.outbox.addMany(manager, [thanks]);
      await this.router.finish(manager, row, rating !== undefined ? 'survey_answered' : 'survey_skipped', 'handoff-router', now, rating);
      const after = (await this.conversations.get(manager, m.tenantId, row.id))!;
      await this.events.append(manager, m.tenantId, [
        { type: 'conversation.rated', agentId: row.agentId, conversationId: row.id, data: { id: row.id, rating: after.rating } },
      ]);
      return;
    }
    if (row.state !== 'assigned') return;
    // The citizen answered: the window is open again, held replies go out now, in order, once.
    const held = await this.messages.held(manager, m.tenantId, row.id);
    const entries = [];
    for (const h of held) {
      await this.messages.release(manager, h.id);
      entries.push(
        this.router.replies.entry(
          this.request(row, h.requestId!, h.kind as ReplyKind, this.heldContent(h), (h.template as unknown as TemplateRef) ?? undefined),
        ),
      );
      await this.lineEvent(manager, row, { ...h, status: 'pending' });
    }
    await this.router.outbox.addMany(manager, entries);
  }

  private heldContent(h: MessageRow): Record<string, unknown> {
    if (h.kind === 'text') return { body: h.text };
    return this.contentOf({ kind: h.kind as ReplyKind, media: (h.media ?? undefined) as AgentReply['media'] });
  }

  /** The gateway's answer for one of our requests: sent, or failed with Meta's error in words. */
  async onResult(manager: EntityManager, result: OutboundResultV1): Promise<void> {
    const message = await this.messages.byRequest(manager, result.requestId);
    if (!message) return;
    const updated =
      result.outcome === 'accepted'
        ? await this.messages.setDelivery(manager, message.id, { status: 'sent', wamid: result.wamid })
        : await this.messages.setDelivery(manager, message.id, {
            status: 'failed',
            errorCode: result.error?.code,
            errorText: explainFailure({ code: result.error?.code, reason: result.reason, title: result.error?.title }),
          });
    if (updated) await this.statusEvent(manager, message.tenantId, updated);
  }

  /** Delivery webhooks for agent messages, matched by wamid (or the request id the gateway echoes). */
  async onStatus(manager: EntityManager, status: MessageStatusV1): Promise<void> {
    const byCallback = parseGatewayCallbackData(status.bizOpaqueCallbackData)?.requestId;
    const message =
      (byCallback && (await this.messages.byRequest(manager, byCallback))) ||
      (await this.messages.byWamid(manager, status.tenantId, status.messageId));
    if (!message || message.tenantId !== status.tenantId) return;
    if (!['sent', 'delivered', 'read', 'failed'].includes(status.status)) return;
    const error = status.errors?.[0];
    const updated = await this.messages.setDelivery(manager, message.id, {
      status: status.status as 'sent' | 'delivered' | 'read' | 'failed',
      wamid: status.messageId,
      ...(error ? { errorCode: error.code, errorText: explainFailure({ code: error.code, title: error.title }) } : {}),
    });
    if (updated) await this.statusEvent(manager, status.tenantId, updated);
  }

  private async statusEvent(manager: EntityManager, tenantId: string, m: MessageRow): Promise<void> {
    const row = await this.conversations.get(manager, tenantId, m.conversationId);
    if (!row) return;
    await this.events.append(manager, tenantId, [
      {
        type: 'message.updated',
        agentId: row.agentId,
        department: row.agentId ? null : row.department,
        conversationId: row.id,
        data: lineOf(m),
      },
    ]);
  }

  async lineEvent(manager: EntityManager, row: ConversationRow, m: MessageRow): Promise<void> {
    await this.events.append(manager, row.tenantId, [
      {
        type: 'message.created',
        agentId: row.agentId,
        department: row.agentId ? null : row.department,
        conversationId: row.id,
        data: lineOf(m),
      },
    ]);
  }

  composer(row: ConversationRow, now = new Date()) {
    return composerState(row.lastInboundAt ? new Date(row.lastInboundAt) : null, now);
  }
}

function firstName(row: ConversationRow): string {
  const name = row.contact.profileName?.trim().split(/\s+/)[0];
  return name && name.length <= 60 ? name : '👋';
}
