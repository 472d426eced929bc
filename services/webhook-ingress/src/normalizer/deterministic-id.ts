import { createHash } from 'node:crypto';

/**
 * A name-based UUID (version 5 layout, SHA-256 instead of SHA-1) so that the same webhook content
 * always gets the same ce_id: a redelivered body or a reprocessed record then maps to the same
 * archive row and the same downstream event id, and consumers' inboxes absorb any repeat.
 */
export function deterministicUuid(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  const bytes = hash.digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A UUID (version 8: a custom layout, RFC 9562) made of the first 122 bits of a digest the caller
 * already has, given in hex. The webhook edge names each raw record by its signature, an
 * HMAC-SHA256 of the exact bytes keyed with the app's secret: unique per (app, body) like a
 * name-based UUID, without hashing the request a second time.
 */
export function uuidFromDigestHex(hex: string): string {
  if (!/^[0-9a-f]{32,}$/.test(hex)) throw new Error('expected at least 32 lowercase hex digits');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
