import { maskDeep, maskPhone, maskPhonesInText } from './masking';

describe('phone masking', () => {
  it('keeps the country prefix and the last two digits', () => {
    expect(maskPhone('+971501234567')).toBe('+971*******67');
    expect(maskPhone('573001234567')).toBe('573*******67');
  });

  it('masks numbers inside free text', () => {
    expect(maskPhonesInText('sending to +971501234567 now')).toBe('sending to +971*******67 now');
  });

  it('masks known phone fields by name, whatever their shape, and walks nested objects', () => {
    expect(maskDeep({ to: '+573001234567', nested: { wa_id: '971501234567', note: 'call 5730012345' }, count: 3 })).toEqual({
      to: '+573*******67',
      nested: { wa_id: '971*******67', note: 'call 573*****45' },
      count: 3,
    });
    expect(maskDeep({ citizenKey: '525512345678', row: { citizen_key: 'bsuid:CO.13491208655302741918' } })).toEqual({
      citizenKey: '525*******78',
      row: { citizen_key: '134***************18' },
    });
  });
});
