import { BUILTIN_LANGUAGES, builtin, consentKeyword, languageName, yesNo, type BuiltinKey } from './builtins';
import { guessLanguage } from './language';
import { matchByWords, matchChoice } from './match';
import { editDistance, fold, parseDate, parseDuration, parseNumber, typedInteger, westernDigits } from './text';

const now = new Date('2026-12-07T10:00:00Z');

describe('text helpers', () => {
  it.each([
    ['Señalización', 'senalizacion'],
    ['  ¿Qué HORA es?  ', 'que hora es'],
    ['إيقاف', 'ايقاف'],
    ['أُسْرَة', 'اسره'],
    ['مستشفى', 'مستشفي'],
    ['Ça coûte combien ?', 'ca coute combien'],
    ['São Paulo', 'sao paulo'],
    ['١٢٣ ۴۵۶', '123 456'],
  ])('fold(%s) = %s', (text, folded) => {
    expect(fold(text)).toBe(folded);
  });

  it('westernDigits turns Arabic-Indic and Persian digits and the Arabic decimal separator', () => {
    expect(westernDigits('٣٫٥ و ۷')).toBe('3.5 و 7');
  });

  it.each([
    ['2', 2],
    ['٢', 2],
    ['۲', 2],
    [' 10. ', 10],
    ['3)', 3],
    ['#4', 4],
    ['2 y 3', undefined],
    ['dos', undefined],
    ['1234', undefined],
  ])('typedInteger(%s) = %s', (text, n) => {
    expect(typedInteger(text)).toBe(n);
  });

  it.each([
    ['12', 12],
    ['-3', -3],
    ['3,5', 3.5],
    ['3.5', 3.5],
    ['١٢', 12],
    ['1 000', 1000],
    ['12 años', undefined],
    ['', undefined],
  ])('parseNumber(%s) = %s', (text, n) => {
    expect(parseNumber(text)).toBe(n);
  });

  it.each([
    ['31/12/2026', '2026-12-31'],
    ['31-12-2026', '2026-12-31'],
    ['31.12.26', '2026-12-31'],
    ['1/2/2026', '2026-02-01'],
    ['12/31/2026', '2026-12-31'],
    ['2026-12-31', '2026-12-31'],
    ['2026/1/5', '2026-01-05'],
    ['2026-12-31T08:00:00Z', '2026-12-31'],
    ['31 de diciembre de 2026', '2026-12-31'],
    ['31 décembre 2026', '2026-12-31'],
    ['December 31, 2026', '2026-12-31'],
    ['31 de dezembro de 2026', '2026-12-31'],
    ['31 ديسمبر 2026', '2026-12-31'],
    ['٣١/١٢/٢٠٢٦', '2026-12-31'],
    ['hoy', '2026-12-07'],
    ['ayer', '2026-12-06'],
    ['اليوم', '2026-12-07'],
    ['yesterday', '2026-12-06'],
    ['31/02/2026', undefined],
    ['29/02/2027', undefined],
    ['29/02/2028', '2028-02-29'],
    ['32/01/2026', undefined],
    ['13/13/2026', undefined],
    ['mañana temprano', undefined],
    ['2026', undefined],
  ])('parseDate(%s) = %s', (text, iso) => {
    expect(parseDate(text, now)).toBe(iso);
  });

  it.each([
    ['30m', 1800000],
    ['2h', 7200000],
    ['1h30m', 5400000],
    ['1d', 86400000],
    ['90s', 90000],
    ['2 hours', undefined],
    ['', undefined],
  ])('parseDuration(%s) = %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('editDistance stops at its budget', () => {
    expect(editDistance('reporte', 'reprote', 2)).toBe(2);
    expect(editDistance('kitten', 'sitting', 3)).toBe(3);
    expect(editDistance('a'.repeat(4096), 'b'.repeat(4096), 2)).toBe(3);
    expect(editDistance('abc', 'abcdefgh', 2)).toBe(3);
  });
});

describe('yes/no words', () => {
  it.each([
    ['sí', true],
    ['Si', true],
    ['SÍ.', true],
    ['claro', true],
    ['yes', true],
    ['Yes please', true],
    ['نعم', true],
    ['oui', true],
    ['sim', true],
    ['👍', true],
    ['👍🏽', true],
    ['no', false],
    ['No.', false],
    ['لا', false],
    ['non', false],
    ['não', false],
    ['nao', false],
    ['👎', false],
    ['tal vez', undefined],
    ['si pero no', undefined],
    ['', undefined],
  ])('%s → %s', (text, answer) => {
    expect(yesNo(text)).toBe(answer);
  });
});

describe('consent keywords', () => {
  const all = ['es', 'en', 'ar', 'fr', 'pt_BR'];
  it.each([
    ['STOP', ['es'], 'opt_out'],
    ['stop', ['ar'], 'opt_out'],
    ['  Stop. ', ['es'], 'opt_out'],
    ['BAJA', ['es'], 'opt_out'],
    ['baja', all, 'opt_out'],
    ['UNSUBSCRIBE', ['en'], 'opt_out'],
    ['ARRÊT', ['fr'], 'opt_out'],
    ['arret', ['fr'], 'opt_out'],
    ['PARAR', ['pt_BR'], 'opt_out'],
    ['sair', ['pt_BR'], 'opt_out'],
    ['إيقاف', ['ar'], 'opt_out'],
    ['ايقاف', ['ar'], 'opt_out'],
    ['توقف', ['ar'], 'opt_out'],
    ['START', ['es'], 'opt_in'],
    ['ALTA', ['es'], 'opt_in'],
    ['SUBSCRIBE', ['en'], 'opt_in'],
    ['COMMENCER', ['fr'], 'opt_in'],
    ['INICIAR', ['pt_BR'], 'opt_in'],
    ['بدء', ['ar'], 'opt_in'],
    // Another language's keyword only counts where the tenant serves that language.
    ['BAJA', ['en'], undefined],
    ['PARAR', ['es'], undefined],
    // Only the whole message.
    ['stop sending me this', all, undefined],
    ['no me den de baja', all, undefined],
    ['voltar', all, undefined],
    ['hola', all, undefined],
    ['', all, undefined],
  ] as const)('%s in %j → %s', (text, languages, result) => {
    expect(consentKeyword(text, [...languages])).toBe(result);
  });

  it('opt-out and opt-in texts name the keywords that work in that language', () => {
    for (const lang of BUILTIN_LANGUAGES) {
      const optedOut = builtin('opted_out', lang);
      const word = /([A-ZÀ-Ü]{4,}|«[^»]+»)/.exec(optedOut)![1].replace(/[«»]/g, '');
      expect(consentKeyword(word, [lang])).toBe('opt_in');
      const optedIn = builtin('opted_in', lang);
      const stop = /([A-ZÀ-Ü]{4,}|«[^»]+»)/.exec(optedIn)![1].replace(/[«»]/g, '');
      expect(consentKeyword(stop, [lang])).toBe('opt_out');
    }
  });
});

describe('built-in texts', () => {
  const keys: BuiltinKey[] = [
    'not_understood',
    'send_photo',
    'send_document',
    'send_location',
    'invalid_date',
    'invalid_number',
    'invalid_yes_no',
    'invalid_text',
    'unsupported',
    'media_failed',
    'agent',
    'opted_out',
    'opted_in',
    'yes',
    'no',
    'options',
    'language_prompt',
    'language_button',
    'broken',
  ];

  it.each(BUILTIN_LANGUAGES)('%s has every text, distinct from English except where they are the same word', (lang) => {
    for (const key of keys) {
      expect(builtin(key, lang).trim()).not.toBe('');
      if (lang !== 'en' && !['no'].includes(key)) expect(builtin(key, lang)).not.toBe(builtin(key, 'en'));
    }
  });

  it('fits the limits where the renderer uses them as titles', () => {
    for (const lang of BUILTIN_LANGUAGES) {
      expect([...builtin('yes', lang)].length).toBeLessThanOrEqual(20);
      expect([...builtin('options', lang)].length).toBeLessThanOrEqual(20);
      expect([...builtin('language_button', lang)].length).toBeLessThanOrEqual(20);
    }
  });

  it('falls back to the flow’s first language, then English', () => {
    expect(builtin('yes', 'de', ['es', 'de'])).toBe('Sí');
    expect(builtin('yes', 'de')).toBe('Yes');
    expect(builtin('yes', 'pt')).toBe('Sim');
    expect(builtin('yes', 'fr_CA')).toBe('Oui');
  });

  it('names languages in their own names', () => {
    expect(['es', 'en', 'ar', 'fr', 'pt_BR', 'xx'].map(languageName)).toEqual([
      'Español',
      'English',
      'العربية',
      'Français',
      'Português',
      'xx',
    ]);
  });
});

describe('guessLanguage', () => {
  const all = ['es', 'en', 'ar', 'fr', 'pt_BR'];
  it.each([
    ['573001234567', all, 'es'],
    ['5215512345678', all, 'es'],
    ['34600123456', all, 'es'],
    ['971501234567', all, 'ar'],
    ['966501234567', all, 'ar'],
    ['201001234567', all, 'ar'],
    ['212600123456', all, 'ar'],
    ['212600123456', ['fr', 'en'], 'fr'],
    ['33612345678', all, 'fr'],
    ['221771234567', all, 'fr'],
    ['2250701234567', all, 'fr'],
    ['5511987654321', all, 'pt_BR'],
    ['5511987654321', ['es', 'pt'], 'pt'],
    ['14155550123', all, 'en'],
    ['447700900123', all, 'en'],
    ['14155550123', ['es', 'ar'], 'es'],
    ['18095551234', all, 'es'],
    ['17875551234', all, 'es'],
    ['+573001234567', all, 'es'],
    // Not a served language, an unknown code, or no number: the tenant's default.
    ['33612345678', ['es', 'en'], 'en'],
    ['8613800138000', all, 'en'],
    ['bsuid:AbC123', all, 'en'],
  ] as const)('%s among %j → %s', (key, languages, expected) => {
    expect(guessLanguage(key, [...languages], languages.includes('en' as never) ? 'en' : languages[0])).toBe(expected);
  });
});

describe('matchChoice', () => {
  const choices = [
    { id: 'renew', titles: ['Renovar licencia', 'Renew licence', 'تجديد الرخصة'], emoji: '🪪' },
    { id: 'pay', titles: ['Pagar', 'Pay', 'الدفع'], emoji: '💳' },
    { id: 'appointment', titles: ['Pedir cita', 'Book an appointment', 'حجز موعد'] },
  ];
  it.each([
    [{ kind: 'text', text: '3' }, 2],
    [{ kind: 'text', text: '٣' }, 2],
    [{ kind: 'text', text: 'renovar licensia' }, 0],
    [{ kind: 'text', text: 'RENEW LICENCE' }, 0],
    [{ kind: 'text', text: 'تجديد الرخصه' }, 0],
    [{ kind: 'text', text: '💳' }, 1],
    [{ kind: 'text', text: 'pay' }, 1],
    [{ kind: 'text', text: 'pagr' }, 1],
    [{ kind: 'text', text: 'pan' }, undefined],
    [{ kind: 'text', text: 'renovar o pagar' }, undefined],
    [{ kind: 'text', text: 'pedir' }, 2],
    [{ kind: 'text', text: 'appointment' }, 2],
    [{ kind: 'reply', id: 'pay', title: 'x' }, 1],
    [{ kind: 'text', text: '0' }, undefined],
    [{ kind: 'text', text: '' }, undefined],
  ] as const)('%j → %s', (input, index) => {
    expect(matchChoice(choices, input)).toBe(index);
  });
});

describe('matchByWords', () => {
  const choices = [
    { id: 'renew', titles: ['Renovar licencia', 'Renew licence'] },
    { id: 'pay', titles: ['Pagar en línea', 'Pay online'] },
    { id: 'appointment', titles: ['Pedir una cita', 'Book an appointment'] },
  ];
  it.each([
    ['quiero pagar', 1],
    ['necesito una cita para mañana', 2],
    ['I want to renew my licence', 0],
    ['quiero renovar la licensia', 0],
    ['renovar o pagar', undefined],
    ['hola', undefined],
    ['x'.repeat(4096), undefined],
  ])('%s → %s', (text, index) => {
    expect(matchByWords(choices, text)).toBe(index);
  });
});
