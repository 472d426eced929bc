// Pure helpers of the console (no DOM): waiting times, the 24-hour window, delivery errors.
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

export interface MetaError {
  code?: number | string;
  title?: string;
  message?: string;
  details?: string;
}

/**
 * An agent's message that failed, in words: the router explains Meta's codes (rules/meta-errors.ts);
 * the console adds the code so that support can look it up.
 */
export function metaErrorText(error: MetaError | undefined | null): string {
  if (!error) return '';
  const words = error.message || error.details || error.title || 'Not delivered: WhatsApp did not accept the message.';
  const code = error.code !== undefined && error.code !== null && String(error.code) !== '' ? ` (${error.code})` : '';
  return words.includes(String(error.code)) ? words : `${words}${code}`;
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
