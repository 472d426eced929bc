/**
 * Phone numbers are personal data: logs keep enough to correlate (country prefix, last two digits)
 * and nothing more. Applied by key name for known phone fields and by pattern to free text.
 */
const PHONE_KEYS = new Set([
  'to',
  'from',
  'wa_id',
  'waId',
  'phone',
  'phone_e164',
  'recipient_id',
  'recipientId',
  'citizenKey',
  'citizen_key',
  'whatsapp',
  'input',
  'display_phone_number',
  'msisdn',
]);
// Not inside identifiers: UUID segments and hex ids next to dashes or letters stay readable.
const E164_IN_TEXT = /(?<![\w-])\+?\d{8,15}(?![\w-])/g;
/**
 * Numbers written with separators: international (`+57 300 123 4567`, `+971-50-123-4567`,
 * `+1 (555) 010-0199`) and national groups of 2-4, 3-4 and 4 digits (`300-123-4567`). Dates
 * (`2026-12-07`, groups 4-2-2) and UUID segments (next to letters or dashes) do not match.
 */
const SEPARATED_INTERNATIONAL = /\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,6}(?![\w])/g;
const SEPARATED_NATIONAL = /(?<![\w+-])\(?\d{2,4}\)?[ -]\d{3,4}[ -]\d{4}(?![\w-])/g;

export function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, '');
  if (digits.length < 6) return '***';
  const plus = value.trim().startsWith('+') ? '+' : '';
  return `${plus}${digits.slice(0, 3)}${'*'.repeat(digits.length - 5)}${digits.slice(-2)}`;
}

export function maskPhonesInText(text: string): string {
  return text
    .replace(SEPARATED_INTERNATIONAL, (m) => (digitCount(m) >= 8 && digitCount(m) <= 15 ? maskPhone(m) : m))
    .replace(SEPARATED_NATIONAL, (m) => maskPhone(m))
    .replace(E164_IN_TEXT, (m) => maskPhone(m));
}

function digitCount(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 48 && value.charCodeAt(i) <= 57) n++;
  return n;
}

/**
 * Errors carry citizens' numbers in their messages and stacks (a failed INSERT quotes its values):
 * they are logged as plain objects with both masked, plus their own fields masked by name.
 */
function maskError(error: Error, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { type: error.name, message: maskPhonesInText(error.message) };
  if (error.stack) out.stack = maskPhonesInText(error.stack);
  for (const [k, v] of Object.entries(error)) {
    if (k === 'message' || k === 'stack') continue;
    out[k] = PHONE_KEYS.has(k) && (typeof v === 'string' || typeof v === 'number') ? maskPhone(String(v)) : maskDeep(v, depth + 1);
  }
  if (error.cause !== undefined) out.cause = maskDeep(error.cause, depth + 1);
  return out;
}

const SECRET_QUERY_KEY = /token|secret|signature|password|challenge/i;

/** A URL with the values of secret-looking query parameters (`hub.verify_token`) replaced. */
export function redactQuery(url: string | undefined): string | undefined {
  if (!url) return url;
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = decodeURIComponentSafe(eq < 0 ? pair : pair.slice(0, eq));
      return eq >= 0 && SECRET_QUERY_KEY.test(key) ? `${pair.slice(0, eq)}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export function maskDeep(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || value === undefined) return value;
  if (typeof value === 'string') return maskPhonesInText(value);
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  if (value instanceof Error) return maskError(value, depth);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = PHONE_KEYS.has(k) && (typeof v === 'string' || typeof v === 'number') ? maskPhone(String(v)) : maskDeep(v, depth + 1);
    }
    return out;
  }
  return value;
}
