import type { ContactRef, InboundMessageV1, TranscriptLine } from '@wa/contracts';
import type { OutgoingMessage, TurnInput } from '../flows/flow.types';

/**
 * What a citizen's message means to the chatbot, decided from the message alone (pure):
 * - `input`: something a flow can use (or answer politely: an unsupported kind is an input too,
 *   so a citizen who asks in a way the bot cannot read still gets an answer);
 * - `ignore`: nothing to answer (a reaction, a system notice such as a number change).
 */
export type Classified = { kind: 'input'; input: TurnInput; text?: string } | { kind: 'ignore'; why: string };

export function classify(message: InboundMessageV1): Classified {
  switch (message.type) {
    case 'text':
      return message.text?.trim()
        ? { kind: 'input', input: { kind: 'text', text: message.text }, text: message.text }
        : ignore('empty text');
    case 'interactive': {
      const reply = message.interactive;
      if (reply && (reply.kind === 'button_reply' || reply.kind === 'list_reply') && reply.id) {
        const title = reply.title ?? '';
        return { kind: 'input', input: { kind: 'reply', id: reply.id, title }, text: title || undefined };
      }
      return { kind: 'input', input: { kind: 'unsupported', type: `interactive:${reply?.kind ?? 'unknown'}` } };
    }
    case 'button': {
      const text = message.button?.text ?? '';
      return { kind: 'input', input: { kind: 'template_button', payload: message.button?.payload, text }, text: text || undefined };
    }
    case 'location':
      return message.location
        ? {
            kind: 'input',
            input: {
              kind: 'location',
              latitude: message.location.latitude,
              longitude: message.location.longitude,
              name: message.location.name,
              address: message.location.address,
            },
          }
        : ignore('location without coordinates');
    case 'image':
    case 'document':
    case 'video':
    case 'audio':
    case 'sticker':
      return message.media
        ? {
            kind: 'input',
            input: {
              kind: 'media',
              mediaType: message.type,
              mediaId: message.media.mediaId,
              caption: message.media.caption,
              mimeType: message.media.mimeType,
              filename: message.media.filename,
            },
            text: message.media.caption,
          }
        : { kind: 'input', input: { kind: 'unsupported', type: message.type } };
    // A reaction to one of our messages asks nothing; answering it would be noise.
    case 'reaction':
      return ignore('reaction');
    // Notices from WhatsApp itself (a number change), not from the citizen.
    case 'system':
      return ignore(`system:${message.system?.type ?? 'unknown'}`);
    default:
      return { kind: 'input', input: { kind: 'unsupported', type: message.type } };
  }
}

function ignore(why: string): Classified {
  return { kind: 'ignore', why };
}

/** The contact to answer: Meta's id (wa_id, or the business-scoped id of a username user). */
export function replyContact(contact: ContactRef): ContactRef {
  const to: ContactRef = {};
  if (contact.waId) to.waId = contact.waId;
  if (contact.bsuid) to.bsuid = contact.bsuid;
  if (!to.waId && !to.bsuid && contact.phone) to.phone = contact.phone;
  return to;
}

/** A line for the transcript an agent reads (text as sent; other kinds described). */
export function citizenLine(message: InboundMessageV1): TranscriptLine {
  return { author: 'citizen', text: clip(describe(message)), at: message.sentAt };
}

function describe(message: InboundMessageV1): string {
  switch (message.type) {
    case 'text':
      return message.text ?? '';
    case 'interactive':
      return message.interactive?.title ?? `[${message.interactive?.kind ?? 'interactive'}]`;
    case 'button':
      return message.button?.text ?? '[button]';
    case 'location': {
      const l = message.location;
      return l ? `[location ${l.latitude},${l.longitude}${l.name ? ` ${l.name}` : ''}]` : '[location]';
    }
    case 'image':
    case 'document':
    case 'video':
    case 'audio':
    case 'sticker':
      return `[${message.type}${message.media?.mediaId ? ` ${message.media.mediaId}` : ''}]${message.media?.caption ? ` ${message.media.caption}` : ''}`;
    case 'reaction':
      return `[reaction ${message.reaction?.emoji ?? 'removed'}]`;
    default:
      return `[${message.type}]`;
  }
}

/** The readable part of a message the bot sends, for the transcript. */
export function botLine(message: OutgoingMessage, at: string): TranscriptLine {
  const c = message.content as Record<string, unknown>;
  const body = (c.body as { text?: string } | string | undefined) ?? undefined;
  let text: string;
  if (message.kind === 'text') text = String((c as { body?: string }).body ?? '');
  else if (message.kind === 'interactive') text = typeof body === 'object' && body?.text ? body.text : '[interactive]';
  else if (message.kind === 'location') text = `[location ${String(c.latitude)},${String(c.longitude)}]`;
  else text = `[${message.kind}]${typeof c.caption === 'string' ? ` ${c.caption}` : ''}`;
  return { author: 'bot', text: clip(text), at };
}

function clip(text: string): string {
  return text.length > 4000 ? `${text.slice(0, 3999)}…` : text;
}

/** The last `max` lines (what a session keeps and a handoff carries). */
export function appendTranscript(lines: TranscriptLine[], added: TranscriptLine[], max = 20): TranscriptLine[] {
  return [...lines, ...added].slice(-max);
}
