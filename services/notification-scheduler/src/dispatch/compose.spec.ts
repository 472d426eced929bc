import type { TemplateCatalogEntryV1 } from '@wa/contracts';
import { resultTransition, statusTransition } from '../outcome/outcome.consumer';
import { chooseTranslation, composeParameters, formatAmount, formatCalendarDate, languageChain, templateValues } from './compose';

const roads = { defaultLanguage: 'es', languageFallbacks: { pt_BR: ['pt_BR', 'es', 'en'], fr: ['fr', 'en'] } };

describe('language choice', () => {
  it('follows the citizen language, its configured chain, then the tenant default', () => {
    expect(languageChain('pt_BR', roads)).toEqual(['pt_BR', 'es', 'en']);
    expect(languageChain('fr', roads)).toEqual(['fr', 'en', 'es']);
    expect(languageChain('es_CO', roads)).toEqual(['es_CO', 'es']);
    expect(languageChain(null, roads)).toEqual(['es']);
    expect(languageChain('ar_AE', { defaultLanguage: 'ar', languageFallbacks: { ar_AE: ['ar_AE', 'ar', 'en'] } })).toEqual([
      'ar_AE',
      'ar',
      'en',
    ]);
  });

  it('takes the first APPROVED translation and says what it tried otherwise', () => {
    const catalog: Record<string, string> = { pt_BR: 'PAUSED', es: 'APPROVED', en: 'APPROVED' };
    const lookup = (l: string) => (catalog[l] ? { language: l, status: catalog[l] } : undefined);
    expect(chooseTranslation(['pt_BR', 'es', 'en'], lookup)).toEqual({ language: 'es' });
    expect(chooseTranslation(['pt_BR', 'fr'], lookup)).toEqual({ tried: 'pt_BR: PAUSED, fr: missing' });
  });
});

describe('template values', () => {
  const data = {
    citizen: { subjectId: 'c1', whatsapp: '+573001112233', name: 'Ana' },
    document: { documentId: 'LIC-1', documentType: 'driving_licence' },
    expiresOn: '2026-06-30',
    renewalUrl: 'https://roads.example.gov/renew',
    fields: { office_hours: '8-17', document_type: 'licencia C2' },
  };

  it('derives dates, labels and days left in the citizen language and zone; agency fields win', () => {
    const v = templateValues(data, 'document_expiry', 'es', Date.parse('2026-06-23T15:00:00Z'), 'America/Bogota');
    expect(v).toMatchObject({
      first_name: 'Ana',
      document_type: 'licencia C2',
      expiry_date: '30 de junio de 2026',
      days_left: '7',
      renewal_url: 'https://roads.example.gov/renew',
      office_hours: '8-17',
    });
    const en = templateValues(
      { ...data, fields: undefined },
      'document_expiry',
      'en',
      Date.parse('2026-06-23T15:00:00Z'),
      'America/Bogota',
    );
    expect([en.document_type, en.expiry_date]).toEqual(['driving licence', 'June 30, 2026']);
    expect(templateValues(data, 'document_expiry', 'ar', 0, 'Asia/Dubai').expiry_date).toMatch(/٢٠٢٦|2026/);
  });

  it('maps positional parameters through the policy', () => {
    const v = templateValues(data, 'document_expiry', 'es', 0, 'UTC', { '1': 'first_name', '2': 'expiry_date' });
    expect([v['1'], v['2']]).toEqual(['Ana', '30 de junio de 2026']);
  });

  it('formats money and dates for the locale', () => {
    expect(formatAmount('125.50', 'AED', 'en')).toMatch(/^AED\s125\.50$/);
    expect(formatCalendarDate('2028-02-29', 'fr')).toBe('29 février 2028');
  });
});

describe('composeParameters', () => {
  const entry = {
    tenantId: 'roads-agency',
    name: 'document_expiring',
    language: 'es',
    category: 'UTILITY',
    status: 'APPROVED',
    parameterFormat: 'named',
    parameters: [
      { component: 'header', name: 'document_type', type: 'text', required: true },
      { component: 'body', name: 'first_name', type: 'text', required: true },
      { component: 'body', name: 'expiry_date', type: 'text', required: true },
      { component: 'button', name: '1', type: 'text', buttonIndex: 0, required: true },
    ],
    components: [
      { type: 'HEADER', format: 'TEXT', text: 'Su {{document_type}}' },
      { type: 'BODY', text: 'Hola {{first_name}}, vence el {{expiry_date}}.' },
      { type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Renovar', url: 'https://roads.example.gov/r/{{1}}' }] },
    ],
    version: 1,
    updatedAt: '2026-01-01T00:00:00Z',
  } as unknown as TemplateCatalogEntryV1;

  it('passes exactly the values the translation takes', () => {
    const r = composeParameters(
      entry,
      { first_name: 'Ana', expiry_date: '30 de junio', document_type: 'licencia', office: 'x' },
      { '0': 'LIC-1' },
    );
    expect(r).toEqual({
      ok: true,
      parameters: { first_name: 'Ana', expiry_date: '30 de junio', 'header.document_type': 'licencia' },
      buttonParameters: { '0': 'LIC-1' },
    });
  });

  it('names what is missing or not allowed, in the registry’s words', () => {
    const r = composeParameters(entry, { first_name: 'Ana\nB', document_type: 'x' }, {});
    expect(r.ok).toBe(false);
    expect(!r.ok && r.detail).toMatch(/expiry_date/);
    expect(!r.ok && r.detail).toMatch(/new lines/);
    expect(!r.ok && r.detail).toMatch(/button 0/);
  });
});

describe('outcome mapping', () => {
  const base = { tenantId: 't-1', requestId: 'x', attempts: 1, requestedBy: 'notification-scheduler', decidedAt: '2026-01-01T00:00:00Z' };
  it('reads gateway results', () => {
    expect(resultTransition({ ...base, outcome: 'accepted', wamid: 'w1' })).toEqual({ outcome: 'sent', wamid: 'w1' });
    expect(resultTransition({ ...base, outcome: 'failed', error: { code: 131026 }, reason: 'undeliverable' }).outcome).toBe(
      'not_on_whatsapp',
    );
    expect(resultTransition({ ...base, outcome: 'failed', reason: 'opted-out' }).outcome).toBe('opted_out');
    expect(resultTransition({ ...base, outcome: 'failed', reason: 'expired' }).outcome).toBe('expired_before_sending');
    expect(resultTransition({ ...base, outcome: 'failed', error: { code: 131049 }, reason: 'declined-by-meta' })).toMatchObject({
      outcome: 'failed',
      errorCode: '131049',
    });
  });
  it('reads status webhooks', () => {
    const s = { tenantId: 't-1', phoneNumberId: '1', messageId: 'w1', occurredAt: '2026-01-01T00:00:00Z' };
    expect(statusTransition({ ...s, status: 'read' })?.outcome).toBe('read');
    expect(statusTransition({ ...s, status: 'failed', errors: [{ code: 131026 }] })?.outcome).toBe('not_on_whatsapp');
    expect(statusTransition({ ...s, status: 'failed', errors: [{ code: 131049, message: 'ecosystem' }] })).toMatchObject({
      outcome: 'failed',
      errorCode: '131049',
    });
    expect(statusTransition({ ...s, status: 'played' })).toBeUndefined();
  });
});
