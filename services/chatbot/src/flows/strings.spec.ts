import { exportStrings, exportStringsYaml, importStrings, parseStringsYaml } from './strings';
import { fixtureFlow } from './testing';
import { validateFlow } from './validate';

const flow = fixtureFlow();

describe('exportStrings / importStrings', () => {
  it('exports one language as a flat map in document order', () => {
    const es = exportStrings(flow, 'es');
    const keys = Object.keys(es);
    expect(keys.slice(0, 4)).toEqual(['global.1.match', 'global.2.match', 'global.3.match', 'global.4.match']);
    expect(es['faq.hours.questions']).toEqual(['horario de atención', 'a qué hora abren']);
    expect(es['main.option.report']).toBe('Reportar un bache');
    expect(es['report_kind.description.flood']).toBe('Agua en la vía');
    expect(es['report_kind.button']).toBe('Ver tipos');
    expect(es['report_photo.skip']).toEqual(['no tengo', 'omitir']);
    expect(es['status_closed.button']).toBe('Ver detalles');
    expect(keys.indexOf('welcome.text')).toBeLessThan(keys.indexOf('main.text'));
    expect(keys).not.toContain('status_call.text');
  });

  it('round-trips: importing what was exported changes nothing', () => {
    for (const lang of flow.languages) {
      const result = importStrings(flow, lang, exportStrings(flow, lang));
      expect(result).toEqual({ ok: true, flow, missing: [] });
    }
  });

  it('round-trips through the YAML file translators edit', () => {
    const yaml = exportStringsYaml(flow, 'ar');
    expect(yaml).toContain('# es: Reportar un bache');
    expect(yaml).toContain('main.option.report: الإبلاغ عن حفرة');
    const result = importStrings(flow, 'ar', parseStringsYaml(yaml));
    expect(result.ok && result.flow).toEqual(flow);
  });

  it('adds a new language: missing keys are reported, the flow then fails validation until complete', () => {
    const fr = exportStrings(flow, 'fr');
    expect(Object.values(fr).every((v) => v === '' || (Array.isArray(v) && v.length === 0))).toBe(true);
    const partial = { 'main.text': 'Comment pouvons-nous vous aider ?', 'main.option.report': 'Signaler un nid-de-poule' };
    const result = importStrings(flow, 'fr', partial);
    if (!result.ok) throw new Error('refused');
    expect(result.flow.languages).toEqual(['es', 'ar', 'fr']);
    expect(result.missing).toContain('bye.text');
    expect(result.missing).not.toContain('main.text');
    expect((result.flow.nodes.main as { text: Record<string, string> }).text.fr).toBe('Comment pouvons-nous vous aider ?');
    expect(validateFlow(result.flow).filter((p) => p.code === 'missing_translation' && p.language === 'fr').length).toBe(
      result.missing.length,
    );
    // The original is untouched.
    expect(flow.languages).toEqual(['es', 'ar']);
  });

  it('replaces a language’s texts', () => {
    const es = { ...exportStrings(flow, 'es'), 'bye.text': 'Hasta pronto.' };
    const result = importStrings(flow, 'es', es);
    expect(result.ok && (result.flow.nodes.bye as { text: Record<string, string> }).text).toEqual({
      es: 'Hasta pronto.',
      ar: 'شكرًا لتواصلك معنا.',
    });
  });

  it('refuses unknown keys and values of the wrong shape, changing nothing', () => {
    const result = importStrings(flow, 'es', {
      ...exportStrings(flow, 'es'),
      'mian.text': 'typo',
      'report_photo.skip': 'no tengo',
      'bye.text': ['a', 'list'],
    });
    expect(result).toEqual({ ok: false, unknown: ['mian.text'], invalid: ['report_photo.skip', 'bye.text'], missing: [] });
  });

  it('a strings file must be a map', () => {
    expect(() => parseStringsYaml('- a\n- b')).toThrow(/map/);
    expect(() => parseStringsYaml('a: 1\na: 2')).toThrow();
  });
});
