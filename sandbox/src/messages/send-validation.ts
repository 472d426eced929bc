/**
 * The checks Meta applies to a `/messages` body before accepting it, with Meta's codes: 100 for a
 * missing or malformed parameter (and a text body over 4,096 characters), 131009 for a value out
 * of range, 131051 for an unknown type.
 * Written independently of the gateway's own validation, so a gateway bug shows up here.
 */
export interface SendProblem {
  code: number;
  message: string;
  details: string;
}

const TYPES = ['text', 'template', 'interactive', 'image', 'audio', 'video', 'document', 'sticker', 'location', 'reaction', 'contacts'];
const len = (s: unknown) => (typeof s === 'string' ? [...s].length : 0);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const missing = (param: string): SendProblem => ({
  code: 100,
  message: `(#100) The parameter ${param} is required.`,
  details: `The parameter ${param} is required.`,
});
const invalid = (details: string): SendProblem => ({ code: 131009, message: '(#131009) Parameter value is not valid', details });

function checkInteractive(i: Record<string, unknown>): SendProblem | undefined {
  const body = isObj(i.body) ? i.body.text : undefined;
  const action = isObj(i.action) ? i.action : undefined;
  if (!action) return missing('interactive.action');
  if (isObj(i.footer) && len(i.footer.text) > 60) return invalid('footer text is longer than 60 characters');
  if (isObj(i.header) && i.header.type === 'text' && len(i.header.text) > 60) return invalid('header text is longer than 60 characters');
  switch (i.type) {
    case 'button': {
      if (typeof body !== 'string' || len(body) === 0) return missing('interactive.body.text');
      if (len(body) > 1024) return invalid('body text is longer than 1024 characters');
      const buttons = Array.isArray(action.buttons) ? action.buttons : [];
      if (buttons.length < 1 || buttons.length > 3) return invalid('buttons must have between 1 and 3 elements');
      const titles = buttons.map((b) => (isObj(b) && isObj(b.reply) ? String(b.reply.title ?? '') : ''));
      if (titles.some((t) => len(t) === 0 || len(t) > 20)) return invalid('button title must be 1 to 20 characters');
      if (new Set(titles).size !== titles.length) return invalid('button titles must be unique');
      return undefined;
    }
    case 'list': {
      if (typeof body !== 'string' || len(body) === 0) return missing('interactive.body.text');
      if (len(body) > 4096) return invalid('body text is longer than 4096 characters');
      if (len(action.button) === 0 || len(action.button) > 20) return invalid('list button label must be 1 to 20 characters');
      const sections = Array.isArray(action.sections) ? action.sections.filter(isObj) : [];
      if (sections.length < 1 || sections.length > 10) return invalid('sections must have between 1 and 10 elements');
      const rows = sections.flatMap((s) => (Array.isArray(s.rows) ? s.rows.filter(isObj) : []));
      if (rows.length < 1 || rows.length > 10) return invalid(`a list may have 1 to 10 rows in total, this one has ${rows.length}`);
      if (rows.some((r) => len(r.title) === 0 || len(r.title) > 24)) return invalid('row title must be 1 to 24 characters');
      if (rows.some((r) => len(r.id) === 0 || len(r.id) > 200)) return invalid('row id must be 1 to 200 characters');
      if (rows.some((r) => len(r.description) > 72)) return invalid('row description is longer than 72 characters');
      return undefined;
    }
    case 'cta_url': {
      if (typeof body !== 'string' || len(body) === 0) return missing('interactive.body.text');
      const p = isObj(action.parameters) ? action.parameters : {};
      if (len(p.display_text) === 0 || len(p.display_text) > 20) return invalid('display_text must be 1 to 20 characters');
      if (typeof p.url !== 'string' || !/^https?:\/\//.test(p.url)) return invalid('url must be an http(s) URL');
      return undefined;
    }
    default:
      return {
        code: 131009,
        message: '(#131009) Parameter value is not valid',
        details: `interactive type ${String(i.type)} is not supported`,
      };
  }
}

function checkMedia(type: string, m: Record<string, unknown>): SendProblem | undefined {
  if (Boolean(m.id) === Boolean(m.link)) return invalid(`${type} needs exactly one of id or link`);
  if (m.link !== undefined && (typeof m.link !== 'string' || !/^https?:\/\//.test(m.link)))
    return invalid(`${type}.link must be an http(s) URL`);
  if ((type === 'audio' || type === 'sticker') && m.caption !== undefined) return invalid(`${type} takes no caption`);
  if (len(m.caption) > 1024) return invalid('caption is longer than 1024 characters');
  return undefined;
}

/** Validates a send body; returns the wa_id it goes to. */
export function checkSend(body: unknown): { problem: SendProblem } | { waId: string; type: string; input: string } {
  if (!isObj(body)) return { problem: missing('messaging_product') };
  if (body.messaging_product !== 'whatsapp') return { problem: missing('messaging_product') };
  if (typeof body.to !== 'string' || body.to.trim() === '') return { problem: missing('to') };
  const digits = body.to.replace(/[\s\-()]/g, '');
  if (!/^\+?\d{7,15}$/.test(digits))
    return { problem: { code: 100, message: '(#100) Invalid parameter', details: 'to is not a valid phone number' } };
  const type = typeof body.type === 'string' ? body.type : 'text';
  if (!TYPES.includes(type))
    return {
      problem: { code: 131051, message: '(#131051) Unsupported message type', details: 'Message type is currently not supported.' },
    };
  const object = body[type];
  if (!isObj(object)) return { problem: missing(type) };
  if (body.biz_opaque_callback_data !== undefined && len(body.biz_opaque_callback_data) > 512) {
    return { problem: invalid('biz_opaque_callback_data is longer than 512 characters') };
  }
  let problem: SendProblem | undefined;
  switch (type) {
    case 'text':
      if (typeof object.body !== 'string' || len(object.body) === 0) problem = missing('text.body');
      // Meta answers an over-long text with the generic invalid-parameter error (100), not 131009.
      // The details are our wording: Meta's exact string for this case is not confirmed.
      else if (len(object.body) > 4096)
        problem = { code: 100, message: '(#100) Invalid parameter', details: "Param text['body'] must be at most 4096 characters long." };
      break;
    case 'template':
      if (typeof object.name !== 'string' || !object.name) problem = missing('template.name');
      else if (!isObj(object.language) || typeof object.language.code !== 'string') problem = missing('template.language.code');
      else if (object.components !== undefined && !Array.isArray(object.components))
        problem = invalid('template.components must be an array');
      break;
    case 'interactive':
      problem = checkInteractive(object);
      break;
    case 'location':
      if (typeof object.latitude !== 'number' || typeof object.longitude !== 'number') problem = missing('location.latitude');
      break;
    case 'reaction':
      if (typeof object.message_id !== 'string' || !object.message_id) problem = missing('reaction.message_id');
      else if (typeof object.emoji !== 'string') problem = missing('reaction.emoji');
      break;
    case 'contacts':
      break;
    default:
      problem = checkMedia(type, object);
  }
  if (problem) return { problem };
  // Without '+', Meta would prepend the business number's country code; the sandbox takes the digits as given.
  return { waId: digits.replace(/^\+/, ''), type, input: body.to };
}
