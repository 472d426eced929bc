import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'valid' | 'missing' | 'malformed' | 'mismatch';

const HEADER_FORMAT = /^sha256=([0-9a-fA-F]{64})$/;

/**
 * Checks `X-Hub-Signature-256` (HMAC-SHA256 of the exact request bytes, keyed with the app secret)
 * against each secret the app currently accepts: during a rotation the old and the new secret both
 * verify. Every comparison is constant-time, and every secret is tried even after a match, so the
 * time taken does not tell which secret (or how much of a forged digest) was right.
 */
export function checkSignature(rawBody: Buffer, header: string | string[] | undefined, secrets: readonly string[]): SignatureCheck {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return 'missing';
  const match = HEADER_FORMAT.exec(value.trim());
  if (!match) return 'malformed';
  const given = Buffer.from(match[1].toLowerCase(), 'hex');
  let valid = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    valid = timingSafeEqual(given, expected) || valid;
  }
  return valid ? 'valid' : 'mismatch';
}

export function signatureOf(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
