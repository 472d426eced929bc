import { checkSignature, signatureOf } from '../src/webhook/signature';
import { fixtureBytes } from './support/fixtures';

const SECRET = 'sandbox-immigration-app-secret';

describe('X-Hub-Signature-256 verification', () => {
  const bytes = fixtureBytes('arabic-emoji-text');

  it('the Arabic/emoji fixture holds Meta-style \\u escapes, not raw UTF-8', () => {
    expect(bytes.toString('utf8')).toContain('\\u0645\\u062a\\u0649');
    expect(bytes.toString('utf8')).toContain('\\ud83d\\udc4d');
    expect([...bytes].every((b) => b < 0x80)).toBe(true);
  });

  it('accepts the HMAC over the exact bytes', () => {
    expect(checkSignature(bytes, signatureOf(SECRET, bytes), [SECRET])).toBe('valid');
  });

  it('would fail over a re-serialized body: the reason to hash the raw bytes', () => {
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(bytes.toString('utf8'))));
    expect(reserialized.equals(bytes)).toBe(false);
    expect(checkSignature(reserialized, signatureOf(SECRET, bytes), [SECRET])).toBe('mismatch');
  });

  it('rejects a missing, malformed or wrong signature', () => {
    expect(checkSignature(bytes, undefined, [SECRET])).toBe('missing');
    expect(checkSignature(bytes, '', [SECRET])).toBe('missing');
    expect(checkSignature(bytes, 'sha1=abc', [SECRET])).toBe('malformed');
    expect(checkSignature(bytes, `sha256=${'z'.repeat(64)}`, [SECRET])).toBe('malformed');
    expect(checkSignature(bytes, `sha256=${'0'.repeat(63)}`, [SECRET])).toBe('malformed');
    expect(checkSignature(bytes, signatureOf('another-secret', bytes), [SECRET])).toBe('mismatch');
    expect(checkSignature(bytes, signatureOf(SECRET, bytes), [])).toBe('mismatch');
  });

  it('accepts the previous secret during a rotation, and upper-case hex', () => {
    expect(checkSignature(bytes, signatureOf('old-secret', bytes), [SECRET, 'old-secret'])).toBe('valid');
    expect(checkSignature(bytes, signatureOf(SECRET, bytes).toUpperCase().replace('SHA256=', 'sha256='), [SECRET])).toBe('valid');
  });
});
