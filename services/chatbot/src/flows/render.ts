/*
 * Nodes as Cloud API messages. Validation renders through the same functions (with placeholders
 * empty), so the prefixes added here (option numbers, emoji) are counted against WhatsApp's limits.
 * Values filled in at run time can still make a text too long: those are clipped here, never sent
 * over a limit.
 */
import type { Localized, OutgoingMessage } from './flow.types';
import { charCount } from './text';

export const LIMITS = {
  text: 4096,
  caption: 1024,
  buttonBody: 1024,
  buttonTitle: 20,
  buttonId: 256,
  buttons: 3,
  listBody: 4096,
  listRows: 10,
  rowTitle: 24,
  rowId: 200,
  rowDescription: 72,
  headerFooter: 60,
  listButton: 20,
  ctaLabel: 20,
  filename: 240,
} as const;

export interface Scope {
  vars: Record<string, unknown>;
  contactName?: string;
}

/** A dotted path (`report.photo`) in the saved values. */
export function lookup(vars: Record<string, unknown>, path: string): unknown {
  let cur: unknown = vars;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Sets a dotted path, creating objects on the way (a non-object on the way is replaced). */
export function assign(vars: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = vars;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

export const PLACEHOLDER = /\{\{\s*([\w.]+)\s*\}\}/g;

/**
 * `{{path}}` → the saved value, `contact.name`, or nothing when unknown (with the space before it,
 * so `Hola {{contact.name}},` reads `Hola,`).
 */
export function interpolate(text: string, scope: Scope): string {
  return text.replace(/( ?)\{\{\s*([\w.]+)\s*\}\}/g, (_, space: string, path: string) => {
    const value = valueText(path, scope);
    return value ? space + value : '';
  });
}

function valueText(path: string, scope: Scope): string {
  if (path === 'contact.name') return scope.contactName?.trim() ?? '';
  const value = lookup(scope.vars, path);
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Text in `language`, else in the flow's first language. */
export function pick(text: Localized | undefined, language: string, fallback: string): string | undefined {
  if (!text) return undefined;
  return text[language] ?? text[fallback];
}

/** Clips a run-time text to a limit in characters (code points). */
export function clip(text: string, max: number): string {
  if (charCount(text) <= max) return text;
  return [...text].slice(0, max - 1).join('') + '…';
}

export interface RenderedOption {
  id: string;
  title: string;
  description?: string;
  emoji?: string;
}

/** What a citizen sees as an option's title: its emoji (if any), then the title. */
export function optionLabel(option: { title: string; emoji?: string }): string {
  return option.emoji ? `${option.emoji} ${option.title}` : option.title;
}

/** The body of a menu: the text, then each option numbered so the citizen may type the number. */
export function menuBody(text: string, options: { title: string; emoji?: string }[]): string {
  const lines = options.map((o, i) => `${i + 1}. ${optionLabel(o)}`);
  return text ? `${text}\n\n${lines.join('\n')}` : lines.join('\n');
}

export interface MenuLook {
  header?: string;
  footer?: string;
  /** The list button's label (more than 3 options). */
  button: string;
}

/** Up to 3 options as reply buttons, 4–10 as a list; the body always lists them numbered. */
export function renderMenu(text: string, options: RenderedOption[], look: MenuLook): OutgoingMessage {
  const asButtons = options.length <= LIMITS.buttons;
  const limit = asButtons ? LIMITS.buttonBody : LIMITS.listBody;
  // A long run-time value shortens the text, never the numbered options under it.
  const room = limit - charCount(menuBody('', options)) - 2;
  const body = clip(menuBody(room > 20 ? clip(text, room) : text, options), limit);
  const content: Record<string, unknown> = { type: asButtons ? 'button' : 'list', body: { text: body } };
  if (look.header) content.header = { type: 'text', text: clip(look.header, LIMITS.headerFooter) };
  if (look.footer) content.footer = { text: clip(look.footer, LIMITS.headerFooter) };
  if (asButtons) {
    content.action = {
      buttons: options.map((o) => ({ type: 'reply', reply: { id: o.id, title: clip(optionLabel(o), LIMITS.buttonTitle) } })),
    };
  } else {
    content.action = {
      button: clip(look.button, LIMITS.listButton),
      sections: [
        {
          rows: options.slice(0, LIMITS.listRows).map((o) => ({
            id: o.id,
            title: clip(optionLabel(o), LIMITS.rowTitle),
            ...(o.description ? { description: clip(o.description, LIMITS.rowDescription) } : {}),
          })),
        },
      ],
    };
  }
  return { kind: 'interactive', content };
}

export function renderText(text: string): OutgoingMessage {
  return { kind: 'text', content: { body: clip(text, LIMITS.text) } };
}

export function renderMedia(kind: 'image' | 'video' | 'document', link: string, caption?: string, filename?: string): OutgoingMessage {
  const content: Record<string, unknown> = { link };
  if (caption) content.caption = clip(caption, LIMITS.caption);
  if (kind === 'document' && filename) content.filename = clip(filename, LIMITS.filename);
  return { kind, content };
}

export function renderLocation(latitude: number, longitude: number, name?: string, address?: string): OutgoingMessage {
  const content: Record<string, unknown> = { latitude, longitude };
  if (name) content.name = name;
  if (address) content.address = address;
  return { kind: 'location', content };
}

/** A text with a CTA URL button (`cta_url`), optionally under an image, video or document header. */
export function renderCtaUrl(
  text: string,
  label: string,
  url: string,
  media?: { kind: 'image' | 'video' | 'document'; link: string; filename?: string },
): OutgoingMessage {
  const content: Record<string, unknown> = {
    type: 'cta_url',
    body: { text: clip(text, LIMITS.buttonBody) },
    action: { name: 'cta_url', parameters: { display_text: clip(label, LIMITS.ctaLabel), url } },
  };
  if (media) {
    const obj: Record<string, unknown> = { link: media.link };
    if (media.kind === 'document' && media.filename) obj.filename = media.filename;
    content.header = { type: media.kind, [media.kind]: obj };
  }
  return { kind: 'interactive', content };
}
