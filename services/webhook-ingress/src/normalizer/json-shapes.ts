/**
 * Defensive readers for Meta's JSON: webhooks are untrusted input whose shape changes every quarter,
 * so nothing here assumes a field exists or has the documented type.
 */
export type Json = Record<string, unknown>;

export function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Strings as they are; finite numbers as their decimal text (ids and timestamps arrive as both). */
export function asString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

export function asBoolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

export function asInteger(value: unknown): number | undefined {
  const n = asNumber(value);
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

// 2001-09-09 .. 2286-11-20: anything outside is not a WhatsApp timestamp in seconds.
const MIN_SECONDS = 1_000_000_000;
const MAX_SECONDS = 9_999_999_999;

/** Meta's timestamps are Unix seconds, as a string in messages/statuses and a number in `entry.time`. */
export function isoFromUnixSeconds(value: unknown): string | undefined {
  const seconds = asNumber(value);
  if (seconds === undefined || seconds < MIN_SECONDS || seconds > MAX_SECONDS) return undefined;
  return new Date(Math.round(seconds * 1000)).toISOString();
}

/** snake_case keys to camelCase, recursively, for the parts of a message we pass on structured. */
export function camelize(value: unknown, depth = 0): unknown {
  if (depth > 16) return value;
  if (Array.isArray(value)) return value.map((v) => camelize(v, depth + 1));
  const object = asObject(value);
  if (!object) return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(object)) {
    out[key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())] = camelize(v, depth + 1);
  }
  return out;
}

/**
 * Quotes integers of 16+ digits that sit right after a key, before JSON.parse: Meta's numeric ids
 * (e.g. `message_template_id`) can exceed 2^53 and would silently lose digits as JS numbers.
 * The lookbehind skips keys inside string values, where quotes are escaped.
 */
export function parsePreservingBigIds(text: string): unknown {
  return JSON.parse(text.replace(/(?<!\\)("[A-Za-z0-9_]+"\s*:\s*)(-?\d{16,})(?=\s*[,}\]])/g, '$1"$2"'));
}
