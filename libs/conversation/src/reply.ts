import { createHash } from 'node:crypto';

/**
 * Request ids of answers are derived from what they answer: the inbound message's wamid and the
 * step of the answer (a turn may send several messages). A redelivered inbound produces the same
 * ids, and the gateway sends a request id once.
 */
export function replyRequestId(tenantId: string, inboundMessageId: string, step: string | number): string {
  return uuidV5(JSON.stringify([tenantId, 'reply', inboundMessageId, String(step)]));
}

// RFC 4122 name-based (v5) ids in the platform's own namespace.
const NAMESPACE = Buffer.from('6f1c2d0e8b7a4c3d9e5f0a1b2c3d4e5f', 'hex');
export function uuidV5(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
