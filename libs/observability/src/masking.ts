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
const E164_IN_TEXT = /\+?\b\d{8,15}\b/g;

export function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, '');
  if (digits.length < 6) return '***';
  const plus = value.trim().startsWith('+') ? '+' : '';
  return `${plus}${digits.slice(0, 3)}${'*'.repeat(digits.length - 5)}${digits.slice(-2)}`;
}

export function maskPhonesInText(text: string): string {
  return text.replace(E164_IN_TEXT, (m) => maskPhone(m));
}

export function maskDeep(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || value === undefined) return value;
  if (typeof value === 'string') return maskPhonesInText(value);
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  if (value instanceof Error) return value;
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = PHONE_KEYS.has(k) && (typeof v === 'string' || typeof v === 'number') ? maskPhone(String(v)) : maskDeep(v, depth + 1);
    }
    return out;
  }
  return value;
}
