import type { ConversationRow } from '../store/conversations.repository';
import type { MessageRow } from '../store/messages.repository';

/** A conversation as lists and event streams show it (the console's ConversationSummary). */
export function summaryOf(row: ConversationRow) {
  return {
    id: row.id,
    state: row.state,
    department: row.department,
    language: row.language,
    reason: row.reason,
    priority: row.priority,
    citizen: { name: row.contact.profileName, waId: row.contact.waId, phone: row.contact.phone, language: row.language },
    queuedAt: iso(row.queuedAt),
    assignedAt: iso(row.assignedAt),
    closedAt: iso(row.closedAt),
    agentId: row.agentId,
    lastInboundAt: iso(row.lastInboundAt),
    rating: row.rating,
    callId: row.callId,
  };
}

/** A transcript line (the console's TranscriptLine): delivery status and Meta's error in words. */
export function lineOf(m: MessageRow) {
  return {
    id: m.id,
    at: iso(m.at),
    author: m.author,
    agentId: m.agentId ?? undefined,
    kind: m.kind,
    text: m.text ?? undefined,
    media: m.media ?? undefined,
    template: m.template ?? undefined,
    status: m.status ?? undefined,
    clientMessageId: m.clientMessageId ?? undefined,
    error:
      m.errorCode !== null || m.errorText
        ? { code: m.errorCode ?? undefined, message: m.errorText ?? undefined, details: m.errorText ?? undefined }
        : undefined,
  };
}

function iso(d: Date | string | null): string | null {
  return d ? new Date(d).toISOString() : null;
}
