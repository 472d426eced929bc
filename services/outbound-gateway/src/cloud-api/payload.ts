import { gatewayCallbackData, type MediaContent, type OutboundRequestV1 } from '@wa/contracts';

/**
 * The recipient as the Cloud API wants it: E.164 with `+` (without it Meta prepends our own country
 * code), exactly as the caller gave it. Pacing, window and consent use the citizen key instead.
 */
export function recipientAddress(request: OutboundRequestV1): string {
  return request.to.phone ?? `+${request.to.waId}`;
}

export interface PayloadParts {
  /** The whole `template` object (from `renderTemplate`) when a template is sent, fallback or not. */
  template?: Record<string, unknown>;
  /** The Meta media id an agency asset resolved to. */
  mediaId?: string;
}

/** The `/messages` body for a request, after rules and rendering decided what exactly goes out. */
export function buildMessagePayload(request: OutboundRequestV1, parts: PayloadParts = {}): Record<string, unknown> {
  const content = (request.content ?? {}) as Record<string, unknown>;
  if (request.kind === 'mark_read') {
    return { messaging_product: 'whatsapp', status: 'read', ...content };
  }
  const payload: Record<string, unknown> = {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: recipientAddress(request),
    biz_opaque_callback_data: gatewayCallbackData(request.requestId, request.callbackData),
  };
  if (request.replyToMessageId && request.kind !== 'reaction') payload.context = { message_id: request.replyToMessageId };
  if (parts.template) {
    payload.type = 'template';
    payload.template = parts.template;
    return payload;
  }
  payload.type = request.kind;
  switch (request.kind) {
    case 'image':
    case 'document':
    case 'video':
    case 'audio':
    case 'sticker': {
      const media = content as MediaContent;
      const object: Record<string, unknown> = {};
      if (parts.mediaId) object.id = parts.mediaId;
      else if (media.id) object.id = media.id;
      else object.link = media.link;
      if (media.caption) object.caption = media.caption;
      if (media.filename) object.filename = media.filename;
      payload[request.kind] = object;
      break;
    }
    default:
      payload[request.kind] = content;
  }
  return payload;
}
