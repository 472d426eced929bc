import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'valid' | 'missing' | 'malformed' | 'mismatch';

const HEADER_FORMAT = /^sha256=([0-9a-fA-F]{64})$/;

/**
 * Checks `X-Hub-Signature-256` (HMAC-SHA256 of the exact request bytes, keyed with the app secret)
 * against each secret the app currently accepts: during a rotation the old and the new secret both
 * verify. Every comparison is constant-time. The current secret is tried first and a match ends
 * the search: only a sender who holds a secret can make one match, so the time saved tells a
 * forger nothing, and a forged signature is always compared with every secret. A string body is
 * hashed as its UTF-8 bytes (a raw record's value).
 */
export function checkSignature(
  rawBody: Buffer | string,
  header: string | string[] | undefined,
  secrets: readonly string[],
): SignatureCheck {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return 'missing';
  const match = HEADER_FORMAT.exec(value.trim());
  if (!match) return 'malformed';
  const given = Buffer.from(match[1].toLowerCase(), 'hex');
  for (const secret of secrets) {
    if (timingSafeEqual(given, createHmac('sha256', secret).update(rawBody).digest())) return 'valid';
  }
  return 'mismatch';
}

export function signatureOf(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
