import { maskDeep, maskPhone, maskPhonesInText, redactQuery } from './masking';

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

describe('masking numbers written with separators, errors and secret query parameters', () => {
  it.each([
    ['call +57 300 123 4567 today', 'call +573*******67 today'],
    ['+971-50-123-4567', '+971*******67'],
    ['+1 (555) 010-0199', '+155******99'],
    ['mobile 300-123-4567.', 'mobile 300*****67.'],
    ['(601) 234 5678', '601*****78'],
  ])('%s', (text, masked) => {
    expect(maskPhonesInText(text)).toBe(masked);
  });

  it('leaves dates, times, UUIDs and small numbers alone', () => {
    const text = 'at 2026-12-07T22:19:58.000Z id 12345678-1234-5123-8123-123456789012 took 1234 ms, 3 of 10';
    expect(maskPhonesInText(text)).toBe(text);
  });

  it('masks error messages, stacks, causes and phone fields of errors', () => {
    const cause = new Error('upstream refused +573001234567');
    const error = Object.assign(new Error('duplicate key (tenant, wa_id)=(roads, 573001234567)', { cause }), {
      waId: '573001234567',
      code: '23505',
    });
    const masked = maskDeep({ err: error }) as { err: Record<string, unknown> };
    expect(JSON.stringify(masked)).not.toMatch(/3001234567/);
    expect(masked.err).toMatchObject({ type: 'Error', code: '23505', waId: '573*******67' });
    expect(String(masked.err.stack)).toContain('573*******67');
    expect(masked.err.cause).toMatchObject({ message: 'upstream refused +573*******67' });
  });

  it('redacts secret query parameters and keeps the rest', () => {
    expect(redactQuery('/webhooks/whatsapp/roads-app?hub.mode=subscribe&hub.verify_token=s3cret&hub.challenge=123')).toBe(
      '/webhooks/whatsapp/roads-app?hub.mode=subscribe&hub.verify_token=[redacted]&hub.challenge=[redacted]',
    );
    expect(redactQuery('/v1/templates?status=APPROVED')).toBe('/v1/templates?status=APPROVED');
    expect(redactQuery(undefined)).toBeUndefined();
  });
});
