import { formatDate, parseDate } from './zoned-time';

/**
 * Reminder offsets are ISO 8601 durations of whole calendar units before a date: `P6W`, `P7D`,
 * `P1M`, `P1Y2M`, `P0D` (on the day). Months and years are calendar arithmetic with the day
 * clamped to the month's end: 1 month before 31 March is 28 (or 29) February, 1 year before
 * 29 February 2028 is 28 February 2027.
 */
export const OFFSET_PATTERN = /^P(?=\d)(?:(\d{1,2})Y)?(?:(\d{1,3})M)?(?:(\d{1,3})W)?(?:(\d{1,4})D)?$/;

export interface Offset {
  years: number;
  months: number;
  weeks: number;
  days: number;
}

export function parseOffset(text: string): Offset {
  const m = OFFSET_PATTERN.exec(text);
  if (!m) throw new Error(`${text} is not an offset like P6W, P7D or P1M`);
  return { years: Number(m[1] ?? 0), months: Number(m[2] ?? 0), weeks: Number(m[3] ?? 0), days: Number(m[4] ?? 0) };
}

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

const beforeCache = new Map<string, string>();

/** The calendar day `offset` before `date`. */
export function dateBefore(date: string, offset: string | Offset): string {
  if (typeof offset !== 'string') return computeDateBefore(date, offset);
  const key = `${date}|${offset}`;
  let result = beforeCache.get(key);
  if (result === undefined) {
    result = computeDateBefore(date, parseOffset(offset));
    if (beforeCache.size > 100_000) beforeCache.clear();
    beforeCache.set(key, result);
  }
  return result;
}

function computeDateBefore(date: string, o: Offset): string {
  const { year, month, day } = parseDate(date);
  // Years and months first, clamped, then weeks and days as plain day counts.
  const totalMonths = year * 12 + (month - 1) - (o.years * 12 + o.months);
  const y = Math.floor(totalMonths / 12);
  const mo = (totalMonths % 12) + 1;
  const d = Math.min(day, daysInMonth(y, mo));
  return formatDate(y, mo, d - o.weeks * 7 - o.days);
}

/** Rough length, for sorting offsets from the farthest to the nearest. */
export function approximateDays(offset: string | Offset): number {
  const o = typeof offset === 'string' ? parseOffset(offset) : offset;
  return o.years * 365.25 + o.months * 30.44 + o.weeks * 7 + o.days;
}
