// Pure helpers of the console (no DOM): waiting times, the 24-hour window, Meta's errors in words.
// Unit-tested in services/handoff-router/test/console-format.spec.ts.

/** "45 s", "3 min", "1 h 05 min", "2 d 3 h": short enough for a queue row. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function secondsSince(iso: string | undefined | null, now = Date.now()): number {
  if (!iso) return 0;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : Math.max(0, (now - t) / 1000);
}

export interface WindowState {
  open: boolean;
  /** What the composer says about it. */
  label: string;
  /** Seconds left while open. */
  secondsLeft: number;
}

/** The 24-hour customer-service window from the time it closes (as the API reports it). */
export function windowState(closesAt: string | undefined | null, now = Date.now()): WindowState {
  const closes = closesAt ? Date.parse(closesAt) : NaN;
  if (Number.isNaN(closes) || closes <= now) {
    return { open: false, label: 'The 24-hour window is closed: only an approved template can be sent.', secondsLeft: 0 };
  }
  const left = (closes - now) / 1000;
  return { open: true, label: `Window open for ${duration(left)} more`, secondsLeft: left };
}

/**
 * Cloud API error codes an agent meets, in words an agent can act on. Unknown codes fall back to
 * Meta's own title/message.
 */
const META_ERRORS: Record<number, string> = {
  131047: 'Not delivered: more than 24 hours have passed since the citizen last wrote. Send an approved template instead.',
  131026: 'Not delivered: the number cannot receive this message (not on WhatsApp, an old app version, or the terms not accepted).',
  131051: 'Not delivered: WhatsApp does not support this message type.',
  131052: 'The citizen’s media could not be downloaded.',
  131053: 'The media could not be uploaded: check its type and size.',
  131048: 'Not delivered: too many messages to this number were not answered or were blocked (spam rate limit).',
  131049: 'Not delivered: Meta limits how many marketing messages this citizen receives.',
  131050: 'Not delivered: the citizen stopped marketing messages.',
  131056: 'Not delivered: too many messages to this citizen in a short time. Wait a moment and retry.',
  130429: 'Not delivered: the number’s sending rate was reached. It is retried automatically.',
  131000: 'Not delivered: WhatsApp reported an unknown error. Try again later.',
  131005: 'Not delivered: the agency’s WhatsApp access was refused (permissions).',
  131008: 'Not delivered: a required field was missing.',
  131009: 'Not delivered: a value was not valid.',
  131016: 'Not delivered: WhatsApp is temporarily unavailable.',
  131021: 'Not delivered: the sender and recipient are the same number.',
  131031: 'Not delivered: the agency’s WhatsApp account is locked.',
  131042: 'Not delivered: the agency’s WhatsApp payment method has a problem.',
  131045: 'Not delivered: the agency’s phone number is not registered.',
  132000: 'Not delivered: the template’s parameters do not match the approved template.',
  132001: 'Not delivered: the template does not exist in this language, or it is not approved yet.',
  132005: 'Not delivered: the template’s text is too long once filled in.',
  132007: 'Not delivered: the template’s content breaks WhatsApp’s policy.',
  132012: 'Not delivered: a template parameter has the wrong format.',
  132015: 'Not delivered: the template is paused for low quality.',
  132016: 'Not delivered: the template is disabled.',
  133010: 'Not delivered: the agency’s phone number is not registered with WhatsApp.',
  368: 'Not delivered: the agency’s account is temporarily blocked for policy violations.',
  470: 'Not delivered: more than 24 hours have passed since the citizen last wrote.',
};

export interface MetaError {
  code?: number | string;
  title?: string;
  message?: string;
  details?: string;
}

export function metaErrorText(error: MetaError | undefined | null): string {
  if (!error) return '';
  const code = typeof error.code === 'string' ? Number(error.code) : error.code;
  if (code !== undefined && META_ERRORS[code]) return `${META_ERRORS[code]} (${code})`;
  const words = error.details || error.message || error.title || 'WhatsApp did not accept the message.';
  return code !== undefined && !Number.isNaN(code) ? `Not delivered: ${words} (${code})` : `Not delivered: ${words}`;
}

/** The language part of a tag, for matching canned responses and templates (`pt_BR` → `pt`). */
export function baseLanguage(tag: string | undefined | null): string {
  return (tag ?? '').split(/[_-]/)[0].toLowerCase();
}

/** Items in the citizen's language first (exact tag, then base language), others after. */
export function byLanguage<T extends { language: string }>(items: T[], language: string | undefined): T[] {
  const rank = (item: T) => (item.language === language ? 0 : baseLanguage(item.language) === baseLanguage(language) ? 1 : 2);
  return [...items].sort((a, b) => rank(a) - rank(b));
}

/** Only the citizen's language: what a closed window allows (an approved template in their language). */
export function inLanguage<T extends { language: string }>(items: T[], language: string | undefined): T[] {
  const exact = items.filter((i) => i.language === language);
  return exact.length ? exact : items.filter((i) => baseLanguage(i.language) === baseLanguage(language));
}

/** `+57300 ••• 4567`: enough of a number to recognise it, not all of it (a screen can be seen). */
export function maskPhone(phone: string | undefined | null): string {
  const d = (phone ?? '').replace(/\D/g, '');
  if (d.length < 8) return phone ?? '';
  return `+${d.slice(0, d.length - 7)} ••• ${d.slice(-4)}`;
}

/** Index of the next/previous item for j/k, staying within the list. */
export function step(index: number, delta: number, length: number): number {
  if (length === 0) return -1;
  if (index < 0) return delta > 0 ? 0 : length - 1;
  return Math.min(length - 1, Math.max(0, index + delta));
}

/**
 * Server-sent events parser for a fetch stream (EventSource cannot send an Authorization header):
 * feed it text as it arrives, it returns the complete events.
 */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
  retry?: number;
}

export class SseParser {
  private buffer = '';

  push(chunk: string): SseEvent[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const events: SseEvent[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = { event: 'message', data: '' };
      const data: string[] = [];
      let any = false;
      for (const line of block.split('\n')) {
        if (!line || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        any = true;
        if (field === 'data') data.push(value);
        else if (field === 'event') event.event = value;
        else if (field === 'id') event.id = value;
        else if (field === 'retry' && /^\d+$/.test(value)) event.retry = Number(value);
      }
      if (!any) continue;
      event.data = data.join('\n');
      events.push(event);
    }
    return events;
  }
}
