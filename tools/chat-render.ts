/*
 * What `npm run chat` shows and understands: a message the sandbox received from the platform,
 * rendered as terminal lines plus the options the citizen can pick (by number or title), and the
 * citizen's typed line turned into what WhatsApp would send. Pure: no I/O, tested on its own.
 */
import { localAgencyUrl } from '@wa/cloud-api-sandbox';

/** A template as the sandbox lists it (`GET /sandbox/templates`). */
export interface TemplateView {
  name: string;
  language: string;
  components: Record<string, unknown>[];
}

/** Something the citizen can tap: an interactive reply button, a list row, or a template's quick reply. */
export type ChatOption =
  | { kind: 'button_reply' | 'list_reply'; id: string; title: string; description?: string }
  | { kind: 'button'; title: string; payload: string };

export interface Rendered {
  lines: string[];
  /** Empty when the message offers nothing to tap (the previous options stay valid then). */
  options: ChatOption[];
}

export interface RenderContext {
  templates?: TemplateView[];
  /** Where stand-in agency links are served locally (`https://agency.example.gov/…`). */
  sandboxUrl?: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

// Strong right-to-left letters (Hebrew, Arabic, Syriac, Thaana, N'Ko, presentation forms) and strong
// left-to-right ones (Latin, Greek, Cyrillic and the like): a line takes the direction of its first
// strong letter, as the Unicode bidi algorithm decides a paragraph's.
const RTL_LETTER = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/u;
const STRONG_LETTER = /[\p{L}]/u;
const RLI = '\u2067';
const PDI = '\u2069';

/**
 * A line whose first letter is right-to-left is isolated as RTL (indentation kept outside), so a
 * terminal that applies bidi shows it right; a Latin line that quotes Arabic stays as it is.
 */
export function bidi(line: string): string {
  const first = STRONG_LETTER.exec(line)?.[0];
  if (!first || !RTL_LETTER.test(first)) return line;
  const [, indent, rest] = /^(\s*)([\s\S]*)$/.exec(line)!;
  return `${indent}${RLI}${rest}${PDI}`;
}

function textLines(text: string | undefined, indent = ''): string[] {
  return text === undefined ? [] : text.split('\n').map((l) => `${indent}${l}`);
}

function link(url: string, ctx: RenderContext): string {
  const local = ctx.sandboxUrl ? localAgencyUrl(url, ctx.sandboxUrl) : undefined;
  return local ? `${url}  (sandbox: ${local})` : url;
}

function interactive(i: Obj, ctx: RenderContext): Rendered {
  const lines: string[] = [];
  const header = obj(i.header);
  if (header.type === 'text') lines.push(...textLines(str(header.text)).map((l) => `*${l}*`));
  else if (str(header.type)) {
    const media = obj(header[String(header.type)]);
    lines.push(`[${String(header.type)}] ${link(str(media.link) ?? str(media.id) ?? '', ctx)}`);
  }
  lines.push(...textLines(str(obj(i.body).text)));
  const footer = str(obj(i.footer).text);
  const action = obj(i.action);
  const options: ChatOption[] = [];
  if (i.type === 'button') {
    for (const b of arr(action.buttons)) {
      const reply = obj(obj(b).reply);
      options.push({ kind: 'button_reply', id: String(reply.id ?? ''), title: String(reply.title ?? '') });
    }
    if (footer) lines.push(`_${footer}_`);
    options.forEach((o, n) => lines.push(`  [${n + 1}] ${o.title}`));
  } else if (i.type === 'list') {
    if (footer) lines.push(`_${footer}_`);
    lines.push(`  ☰ ${str(action.button) ?? ''}`);
    const sections = arr(action.sections).map(obj);
    for (const section of sections) {
      const title = str(section.title);
      if (title && sections.length > 1) lines.push(`    ${title}`);
      for (const r of arr(section.rows)) {
        const row = obj(r);
        const option: ChatOption = {
          kind: 'list_reply',
          id: String(row.id ?? ''),
          title: String(row.title ?? ''),
          description: str(row.description),
        };
        options.push(option);
        lines.push(`    [${options.length}] ${option.title}`);
        if (option.description) lines.push(`        ${option.description}`);
      }
    }
  } else if (i.type === 'cta_url') {
    if (footer) lines.push(`_${footer}_`);
    const p = obj(action.parameters);
    lines.push(`  🔗 ${str(p.display_text) ?? ''}: ${link(String(p.url ?? ''), ctx)}`);
  } else {
    lines.push(`(interactive ${String(i.type)})`);
  }
  return { lines, options };
}

/** `{{first_name}}` / `{{1}}` filled from the send's parameters (named or positional). */
function fill(text: string, parameters: Obj[]): string {
  return text.replace(/\{\{\s*([\w]+)\s*\}\}/g, (whole, key: string) => {
    const named = parameters.find((p) => p.parameter_name === key);
    const positional = /^\d+$/.test(key) ? parameters[Number(key) - 1] : undefined;
    const p = named ?? positional;
    if (!p) return whole;
    return String(p.text ?? obj(p.currency).fallback_value ?? obj(p.date_time).fallback_value ?? whole);
  });
}

function template(t: Obj, ctx: RenderContext): Rendered {
  const name = String(t.name ?? '');
  const language = String(obj(t.language).code ?? '');
  const sent = arr(t.components).map(obj);
  const paramsOf = (type: string) => arr(sent.find((c) => c.type === type)?.parameters).map(obj);
  const lines = [`[template ${name} (${language})]`];
  const found = ctx.templates?.find((x) => x.name === name && x.language === language);
  const options: ChatOption[] = [];
  if (!found) return { lines: [...lines, '(its text is not in the sandbox)'], options };
  for (const component of found.components.map(obj)) {
    const type = String(component.type ?? '').toUpperCase();
    if (type === 'HEADER' && component.format === 'TEXT') lines.push(`*${fill(String(component.text ?? ''), paramsOf('header'))}*`);
    else if (type === 'HEADER') {
      const media = obj(paramsOf('header')[0]?.[String(component.format).toLowerCase()]);
      lines.push(`[${String(component.format).toLowerCase()}] ${link(str(media.link) ?? str(media.id) ?? '', ctx)}`);
    } else if (type === 'BODY') lines.push(...textLines(fill(String(component.text ?? ''), paramsOf('body'))));
    else if (type === 'FOOTER') lines.push(`_${String(component.text ?? '')}_`);
    else if (type === 'BUTTONS') {
      arr(component.buttons)
        .map(obj)
        .forEach((b, index) => {
          const title = String(b.text ?? '');
          if (b.type === 'QUICK_REPLY') {
            const param = sent.find((c) => c.type === 'button' && c.sub_type === 'quick_reply' && String(c.index) === String(index));
            const payload = str(obj(arr(param?.parameters)[0]).payload) ?? title;
            options.push({ kind: 'button', title, payload });
            lines.push(`  [${options.length}] ${title}`);
          } else if (b.type === 'URL') lines.push(`  🔗 ${title}: ${String(b.url ?? '')}`);
          else lines.push(`  (${String(b.type).toLowerCase()}) ${title}`);
        });
    }
  }
  return { lines, options };
}

/** One message as the platform sent it (the Graph API request body). */
export function renderMessage(payload: Obj, ctx: RenderContext = {}): Rendered {
  const type = String(payload.type ?? 'text');
  const content = obj(payload[type]);
  let rendered: Rendered;
  switch (type) {
    case 'text':
      rendered = { lines: textLines(str(content.body) ?? ''), options: [] };
      break;
    case 'interactive':
      rendered = interactive(content, ctx);
      break;
    case 'template':
      rendered = template(content, ctx);
      break;
    case 'image':
    case 'video':
    case 'audio':
    case 'sticker':
    case 'document': {
      const icon = { image: '🖼', video: '🎞', audio: '🔊', sticker: '🏷', document: '📄' }[type];
      const name = str(content.filename);
      const where = str(content.link) ? link(String(content.link), ctx) : `media id ${String(content.id ?? content.assetId ?? '?')}`;
      rendered = { lines: [`${icon} ${type}${name ? ` ${name}` : ''}: ${where}`, ...textLines(str(content.caption))], options: [] };
      break;
    }
    case 'location': {
      const label = [str(content.name), str(content.address)].filter(Boolean).join(' — ');
      rendered = {
        lines: [`📍 ${label ? `${label} ` : ''}(${String(content.latitude)}, ${String(content.longitude)})`],
        options: [],
      };
      break;
    }
    case 'reaction':
      rendered = { lines: [`(reacted ${str(content.emoji) ?? 'nothing'})`], options: [] };
      break;
    default:
      rendered = { lines: [`(${type} message)`], options: [] };
  }
  return { lines: rendered.lines.map(bidi), options: rendered.options };
}

/* ---------------------------------------------------------------------------------------------
 * The citizen's side
 * ------------------------------------------------------------------------------------------- */

export type ChatInput =
  | { kind: 'quit' }
  | { kind: 'help' }
  | { kind: 'text'; text: string }
  | { kind: 'pick'; option: ChatOption }
  | { kind: 'location'; latitude: number; longitude: number; name?: string }
  | { kind: 'photo'; path: string }
  | { kind: 'error'; message: string };

const fold = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().trim();

/** Eastern Arabic and Persian digits typed on a phone keyboard count as digits. */
function asciiDigits(s: string): string {
  return s.replace(/[\u0660-\u0669\u06F0-\u06F9]/g, (d) => String((d.charCodeAt(0) & 0xf) % 10));
}

/** What a typed line means: a command, the pick of one of the options on screen, or text. */
export function parseInput(line: string, options: ChatOption[]): ChatInput | undefined {
  const text = line.trim();
  if (!text) return undefined;
  if (text.startsWith('/')) {
    const [command, ...args] = text.split(/\s+/);
    switch (command) {
      case '/quit':
      case '/exit':
        return { kind: 'quit' };
      case '/help':
        return { kind: 'help' };
      case '/location': {
        const [lat, lon, ...name] = args;
        const latitude = Number(lat);
        const longitude = Number(lon);
        if (
          !lat ||
          !lon ||
          !Number.isFinite(latitude) ||
          !Number.isFinite(longitude) ||
          Math.abs(latitude) > 90 ||
          Math.abs(longitude) > 180
        )
          return { kind: 'error', message: 'usage: /location LAT LON [name]   e.g. /location 4.6097 -74.0817' };
        return { kind: 'location', latitude, longitude, name: name.length ? name.join(' ') : undefined };
      }
      case '/photo':
        if (!args.length) return { kind: 'error', message: 'usage: /photo PATH' };
        return { kind: 'photo', path: text.slice('/photo'.length).trim() };
      default:
        // A line such as "/ hello" is text; an unknown command is a typo.
        if (/^\/\w/.test(text)) return { kind: 'error', message: `unknown command ${command} (try /help)` };
    }
  }
  const digits = asciiDigits(text);
  if (/^\d{1,2}$/.test(digits)) {
    const n = Number(digits);
    if (n >= 1 && n <= options.length) return { kind: 'pick', option: options[n - 1] };
  }
  const byTitle = options.filter((o) => fold(o.title) === fold(text));
  if (byTitle.length === 1) return { kind: 'pick', option: byTitle[0] };
  return { kind: 'text', text };
}

/** The sandbox's inbound spec (`POST /sandbox/inbound/messages`) for a citizen's input. */
export function inboundSpec(
  input: Exclude<ChatInput, { kind: 'quit' | 'help' | 'error' | 'photo' }>,
  base: { tenant: string; from: string; profileName?: string },
  replyTo?: string,
): Record<string, unknown> {
  const context = replyTo ? { context: { messageId: replyTo } } : {};
  switch (input.kind) {
    case 'text':
      return { ...base, type: 'text', text: input.text };
    case 'location':
      return { ...base, type: 'location', location: { latitude: input.latitude, longitude: input.longitude, name: input.name } };
    case 'pick': {
      const o = input.option;
      if (o.kind === 'button') return { ...base, ...context, type: 'button', button: { text: o.title, payload: o.payload } };
      return {
        ...base,
        ...context,
        type: 'interactive',
        interactive: { kind: o.kind, id: o.id, title: o.title, ...(o.description ? { description: o.description } : {}) },
      };
    }
  }
}

const IMAGE_TYPES: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

/** The MIME type WhatsApp would report for a photo file, or undefined for a file that is no photo. */
export function photoMimeType(path: string): string | undefined {
  return IMAGE_TYPES[path.split('.').pop()?.toLowerCase() ?? ''];
}
