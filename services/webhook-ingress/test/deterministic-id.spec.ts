import { createHmac } from 'node:crypto';
import { deterministicUuid, uuidFromDigestHex } from '../src/normalizer/deterministic-id';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const hmacHex = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

describe('uuidFromDigestHex (raw webhook record ids)', () => {
  it('is a version 8 UUID made of the digest, the same for the same digest', () => {
    const digest = hmacHex('secret-a', '{"object":"whatsapp_business_account","entry":[]}');
    const id = uuidFromDigestHex(digest);
    expect(id).toMatch(UUID_V8);
    expect(uuidFromDigestHex(digest)).toBe(id);
    // Every hex digit but the version and the variant's top bits comes from the digest, in order.
    const kept = id.replace(/-/g, '');
    expect(kept.slice(0, 12)).toBe(digest.slice(0, 12));
    expect(kept.slice(13, 16)).toBe(digest.slice(13, 16));
    expect(kept.slice(17, 32)).toBe(digest.slice(17, 32));
    expect(parseInt(kept[16], 16) & 0x3).toBe(parseInt(digest[16], 16) & 0x3);
  });

  it('differs per body and per app secret (one id per app and exact bytes)', () => {
    const body = '{"object":"whatsapp_business_account","entry":[{"id":"1"}]}';
    const ids = new Set([
      uuidFromDigestHex(hmacHex('secret-a', body)),
      uuidFromDigestHex(hmacHex('secret-b', body)),
      uuidFromDigestHex(hmacHex('secret-a', `${body} `)),
    ]);
    expect(ids.size).toBe(3);
  });

  it('refuses what is not a lowercase hex digest of at least 128 bits', () => {
    expect(() => uuidFromDigestHex('abc')).toThrow(/hex/);
    expect(() => uuidFromDigestHex('Z'.repeat(64))).toThrow(/hex/);
    expect(() => uuidFromDigestHex('A'.repeat(64))).toThrow(/hex/);
  });
});

describe('deterministicUuid', () => {
  it('is a stable name-based UUID of its parts, with part boundaries kept', () => {
    expect(deterministicUuid('a', 'bc')).toBe(deterministicUuid('a', 'bc'));
    expect(deterministicUuid('a', 'bc')).not.toBe(deterministicUuid('ab', 'c'));
    expect(deterministicUuid('a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
