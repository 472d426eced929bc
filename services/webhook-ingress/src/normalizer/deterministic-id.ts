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

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
