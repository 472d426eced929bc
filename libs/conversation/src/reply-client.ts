import type { EntityManager } from 'typeorm';
import {
  Topics,
  checkOutboundRequest,
  type ContactRef,
  type OutboundKind,
  type OutboundRequestV1,
  type OutboundResultV1,
  type Priority,
  type TemplateRef,
} from '@wa/contracts';
import type { Outbox, OutboxEntry } from '@wa/kafka';
import { replyRequestId } from './reply';

/** One message of an answer: the Cloud API's own content object for its kind. */
export interface ReplyContent {
  kind: Exclude<OutboundKind, 'template'>;
  content: Record<string, unknown>;
  /** Sent instead when the window turns out to be closed. */
  fallbackTemplate?: TemplateRef;
}

export interface ReplyTo {
  tenantId: string;
  to: ContactRef;
  /** The inbound wamid being answered: with `step`, it fixes the request id. */
  inboundMessageId: string;
  /** The tenant number the citizen wrote to (answers come from the same number). */
  phoneNumberId?: string;
  /** Quote the citizen's message. */
  quote?: boolean;
}

export interface NoticeRequest {
  tenantId: string;
  to: ContactRef;
  requestId: string;
  template: TemplateRef;
  priority?: Priority;
  callbackData?: string;
  expiresAt?: string;
  phoneNumberId?: string;
}

/**
 * The one way a service asks the gateway to send: requests are written to the caller's outbox in
 * its own transaction (so the answer and the state that led to it commit together), with request
 * ids the gateway sends once. Results come back on `wa.outbound.result.v1`; {@link isMine} tells a
 * service's own results from others'.
 */
export class ReplyClient {
  constructor(
    private readonly outbox: Outbox,
    /** `requestedBy` on every request, e.g. `chatbot` or `handoff:agent-7`'s service prefix. */
    readonly requestedBy: string,
  ) {}

  /** The requests for one answer (several messages in order), each checked against WhatsApp's limits. */
  buildReplies(target: ReplyTo, messages: ReplyContent[], firstStep = 0): OutboundRequestV1[] {
    return messages.map((m, i) =>
      this.checked({
        tenantId: target.tenantId,
        requestId: replyRequestId(target.tenantId, target.inboundMessageId, firstStep + i),
        phoneNumberId: target.phoneNumberId,
        to: target.to,
        kind: m.kind,
        priority: 'reply',
        content: m.content,
        fallbackTemplate: m.fallbackTemplate,
        replyToMessageId: target.quote && i === 0 ? target.inboundMessageId : undefined,
        requestedBy: this.requestedBy,
      } as OutboundRequestV1),
    );
  }

  /** Answers an inbound message: a redelivered inbound writes the same request ids (sent once). */
  async reply(manager: EntityManager, target: ReplyTo, messages: ReplyContent[], firstStep = 0): Promise<string[]> {
    const requests = this.buildReplies(target, messages, firstStep);
    await this.outbox.addMany(
      manager,
      requests.map((data) => this.entry(data)),
    );
    return requests.map((r) => r.requestId);
  }

  /** A template notice (the scheduler's reminders, an agent's re-engagement), with the caller's id. */
  buildNotice(notice: NoticeRequest): OutboundRequestV1 {
    return this.checked({
      tenantId: notice.tenantId,
      requestId: notice.requestId,
      phoneNumberId: notice.phoneNumberId,
      to: notice.to,
      kind: 'template',
      priority: notice.priority ?? 'notification',
      template: notice.template,
      callbackData: notice.callbackData,
      expiresAt: notice.expiresAt,
      requestedBy: this.requestedBy,
    } as OutboundRequestV1);
  }

  /**
   * Outbox entries for requests built here (for callers that batch them with other events). The
   * gateway sends a request id once, so a repeated request is harmless; `eventId` makes the
   * event id deterministic too, for callers that want the outbox to refuse a repeat.
   */
  entry(request: OutboundRequestV1, eventId?: string): OutboxEntry {
    return eventId ? { spec: Topics.outboundRequest, data: request, id: eventId } : { spec: Topics.outboundRequest, data: request };
  }

  /** Whether a result answers one of this client's requests. */
  isMine(result: Pick<OutboundResultV1, 'requestedBy'>): boolean {
    return result.requestedBy === this.requestedBy;
  }

  private checked(built: OutboundRequestV1): OutboundRequestV1 {
    // Copied without the absent fields rather than `delete`d: deleting turns the object into a
    // dictionary, which JSON.stringify (the outbox's encoding) walks several times slower.
    const fields = built as unknown as Record<string, unknown>;
    const request: Record<string, unknown> = {};
    for (const key in fields) if (fields[key] !== undefined) request[key] = fields[key];
    const problems = checkOutboundRequest(request as unknown as OutboundRequestV1);
    if (problems.length) throw new ReplyContentError(problems);
    return request as unknown as OutboundRequestV1;
  }
}

/** A reply that breaks WhatsApp's limits: a bug in the caller's content, never sent. */
export class ReplyContentError extends Error {
  constructor(readonly problems: string[]) {
    super(`reply breaks WhatsApp's limits: ${problems.join('; ')}`);
    this.name = 'ReplyContentError';
  }
}
