/*
 * Wall-clock arithmetic in IANA time zones with nothing but Intl (Node ships full ICU): enough for
 * "10:00 local on 2026-05-19" and "the next minute inside 08:00-20:00 local", DST included, without
 * a date library. Instants are epoch milliseconds; calendar days are 'YYYY-MM-DD' strings.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

// Building an Intl.DateTimeFormat costs ~50 µs; planning a million events needs them cached.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

export function isValidTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

function intlWallClock(instant: number, zone: string): WallClock {
  const out: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(zone).formatToParts(instant)) {
    if (part.type in out) out[part.type as keyof WallClock] = Number(part.value);
  }
  return out;
}

/** The wall clock in `zone` at `instant` (from the cached offset: formatToParts costs ~5 µs). */
export function wallClock(instant: number, zone: string): WallClock {
  const d = new Date(instant + offsetAt(instant, zone));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

// Offsets change at whole minutes, so an offset is the same for every instant of one minute.
const offsetCache = new Map<string, number>();
/** Local time minus UTC at `instant`, in ms (+1 h for Madrid in winter, -4 h for New York in summer). */
export function offsetAt(instant: number, zone: string): number {
  const minute = Math.floor(instant / MINUTE);
  const key = `${zone}|${minute}`;
  let offset = offsetCache.get(key);
  if (offset === undefined) {
    const w = intlWallClock(minute * MINUTE, zone);
    offset = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - minute * MINUTE;
    if (offsetCache.size > 200_000) offsetCache.clear();
    offsetCache.set(key, offset);
  }
  return offset;
}

export function parseDate(date: string): { year: number; month: number; day: number } {
  const [year, month, day] = date.split('-').map(Number);
  return { year, month, day };
}

export function formatDate(year: number, month: number, day: number): string {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  const { year, month, day } = parseDate(date);
  return formatDate(year, month, day + days);
}

/** Whole days from `from` to `to` (calendar days, no time zone involved). */
export function daysBetween(from: string, to: string): number {
  const a = parseDate(from);
  const b = parseDate(to);
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / DAY);
}

/** The calendar day in `zone` at `instant`. */
export function localDate(instant: number, zone: string): string {
  const w = wallClock(instant, zone);
  return formatDate(w.year, w.month, w.day);
}

export function parseTime(time: string): number {
  const [h, m] = time.split(':').map(Number);
  return h * 60 + m;
}

/**
 * The instant at which the wall clock in `zone` shows `time` on `date`. A time that happens twice
 * (autumn fall-back) resolves to the first; a time that never happens (spring-forward gap)
 * resolves to the first instant after the gap, i.e. the next minute that exists.
 */
const instantCache = new Map<string, number>();
export function zonedInstant(date: string, time: string, zone: string): number {
  // Planning asks for the same few hundred (day, time, zone) triples millions of times.
  const key = `${zone}|${date}|${time}`;
  let t = instantCache.get(key);
  if (t === undefined) {
    t = computeZonedInstant(date, time, zone);
    if (instantCache.size > 100_000) instantCache.clear();
    instantCache.set(key, t);
  }
  return t;
}

function computeZonedInstant(date: string, time: string, zone: string): number {
  const { year, month, day } = parseDate(date);
  const minutes = parseTime(time);
  const wall = Date.UTC(year, month - 1, day, Math.floor(minutes / 60), minutes % 60);
  // Zones change offset at most once within a day or two: the offsets a day before and after
  // cover every candidate.
  const offsets = new Set([offsetAt(wall - DAY, zone), offsetAt(wall, zone), offsetAt(wall + DAY, zone)]);
  const candidates = [...offsets].map((o) => wall - o).filter((t) => t + offsetAt(t, zone) === wall);
  if (candidates.length) return Math.min(...candidates);
  // In a gap: find the transition between the two candidate instants (minute precision).
  const bounds = [...offsets].map((o) => wall - o).sort((a, b) => a - b);
  let lo = Math.floor(bounds[0] / MINUTE);
  let hi = Math.ceil(bounds[bounds.length - 1] / MINUTE);
  const before = offsetAt(lo * MINUTE, zone);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid * MINUTE, zone) === before) lo = mid;
    else hi = mid;
  }
  return hi * MINUTE;
}

/** Local sending window: from `start` (inclusive) to `end` (exclusive), 'HH:MM'; may wrap midnight. */
export interface SendWindow {
  start: string;
  end: string;
}

function inWindow(minuteOfDay: number, start: number, end: number): boolean {
  if (start === end) return true; // no quiet hours
  return start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
}

export function isAllowed(instant: number, window: SendWindow, zone: string): boolean {
  const w = wallClock(instant, zone);
  return inWindow(w.hour * 60 + w.minute, parseTime(window.start), parseTime(window.end));
}

/**
 * The earliest instant at or after `instant` that is inside the sending window in `zone`: the
 * instant itself when allowed, else the window's next opening, computed on the wall clock of that
 * day (so 08:00 stays 08:00 local across a DST change).
 */
export function nextAllowed(instant: number, window: SendWindow, zone: string): number {
  const start = parseTime(window.start);
  const end = parseTime(window.end);
  const w = wallClock(instant, zone);
  const minuteOfDay = w.hour * 60 + w.minute;
  if (inWindow(minuteOfDay, start, end)) return instant;
  const today = formatDate(w.year, w.month, w.day);
  // Outside a non-wrapping window: before the start today, or after the end (then tomorrow).
  // Outside a wrapping window (end <= m < start): the start later today.
  const day = start < end && minuteOfDay >= end ? addDays(today, 1) : today;
  const opening = zonedInstant(day, window.start, zone);
  // A start inside a DST gap opens at the gap's end; never go backwards.
  return Math.max(opening, instant);
}

/** `2026-05-19T10:00:00-05:00`: an instant as the citizen's wall clock shows it, with the offset. */
export function isoInZone(instant: number, zone: string): string {
  const w = wallClock(instant, zone);
  const offset = Math.round(offsetAt(instant, zone) / MINUTE);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const pad = (n: number, l = 2) => String(n).padStart(l, '0');
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
