import { canonicalDigits, citizenKey, citizenKeyOf, citizenKeySpellings, conversationKey, isBsuidKey } from './citizen-key';

describe('citizenKey', () => {
  it.each([
    // [what an agency or Meta writes, the key]
    [{ phone: '+573001234567' }, '573001234567'],
    [{ waId: '573001234567' }, '573001234567'],
    // Mexico: the wa_id carries a 1 after 52 that the E.164 number lacks.
    [{ phone: '+525512345678' }, '525512345678'],
    [{ waId: '5215512345678' }, '525512345678'],
    // Brazil: mobile E.164 numbers have a ninth digit that many wa_ids lack.
    [{ phone: '+5511987654321' }, '551187654321'],
    [{ waId: '551187654321' }, '551187654321'],
    // A Brazilian landline (8 digits, no leading 9) is left alone.
    [{ phone: '+551133334444' }, '551133334444'],
    [{ phone: '+971 50-123 4567' }, '971501234567'],
    [{ bsuid: 'CO.13491208655302741918' }, 'bsuid:CO.13491208655302741918'],
    [{ waId: '', bsuid: 'US.abc' }, 'bsuid:US.abc'],
    [{ waId: '971501234567', bsuid: 'AE.x' }, '971501234567'],
  ])('%j → %s', (identity, key) => {
    expect(citizenKey(identity)).toBe(key);
  });

  it('gives the same key to the agency number and the wa_id of one Mexican or Brazilian citizen', () => {
    expect(citizenKey({ phone: '+525512345678' })).toBe(citizenKey({ waId: '5215512345678' }));
    expect(citizenKey({ phone: '+5511987654321' })).toBe(citizenKey({ waId: '551187654321' }));
  });

  it('names nobody when nothing identifies the citizen', () => {
    expect(citizenKeyOf({})).toBeUndefined();
    expect(citizenKeyOf({ waId: ' ', phone: '' })).toBeUndefined();
    expect(() => citizenKey({})).toThrow(/no wa_id, phone or bsuid/);
  });

  it('keeps keys apart from bsuids and builds the partition key', () => {
    expect(isBsuidKey('bsuid:x')).toBe(true);
    expect(isBsuidKey('573001234567')).toBe(false);
    expect(conversationKey('roads-agency', { phone: '+5215512345678' })).toBe('roads-agency:525512345678');
    expect(conversationKey('roads-agency', '573001234567')).toBe('roads-agency:573001234567');
    expect(canonicalDigits('+52 1 55 1234 5678')).toBe('525512345678');
  });
});

describe('citizenKeySpellings', () => {
  it('lists every spelling that folds into the key, each folding back to it', () => {
    expect(citizenKeySpellings('525512345678')).toEqual(['525512345678', '5215512345678']);
    expect(citizenKeySpellings('551187654321')).toEqual(['551187654321', '5511987654321']);
    expect(citizenKeySpellings('447700900123')).toEqual(['447700900123']);
    expect(citizenKeySpellings('bsuid:US.abc')).toEqual(['bsuid:US.abc', 'US.abc']);
    for (const key of ['525512345678', '551187654321']) for (const s of citizenKeySpellings(key)) expect(citizenKey({ waId: s })).toBe(key);
  });
});
