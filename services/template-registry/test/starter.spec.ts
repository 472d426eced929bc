import { checkTranslationsConsistent, renderTemplate, validateTemplateDefinition, type TemplateParameter } from '@wa/templates';
import { readStarterCatalog } from '../src/starter/starter-catalog';

const REQUIRED_LANGUAGES = ['es', 'en', 'ar', 'fr', 'pt_BR'];

describe('starter catalog (services/template-registry/starter)', () => {
  const catalog = readStarterCatalog();

  it('holds the standard government notices', () => {
    expect(catalog.map((t) => t.name).sort()).toEqual([
      'agent_replied',
      'continue_on_whatsapp',
      'document_expiring',
      'document_received',
      'documents_ready_collection',
      'documents_ready_delivery',
      'payment_due',
      'payment_received',
    ]);
  });

  it.each(readStarterCatalog().map((t) => [t.name, t] as const))(
    '%s: utility, in every required language, valid and consistent',
    (_name, template) => {
      expect(template.category).toBe('UTILITY');
      expect(Object.keys(template.translations).sort()).toEqual([...REQUIRED_LANGUAGES].sort());
      const translations: { language: string; parameterFormat: 'named' | 'positional'; parameters: TemplateParameter[] }[] = [];
      for (const [language, { components }] of Object.entries(template.translations)) {
        const result = validateTemplateDefinition({
          name: template.name,
          language,
          category: template.category,
          parameterFormat: template.parameterFormat,
          components,
        });
        if (!result.ok) throw new Error(`${template.name}/${language}: ${result.errors.join('; ')}`);
        translations.push({ language, parameterFormat: template.parameterFormat, parameters: result.parameters });
        // Strictly factual utility notices: no links or offers that would make Meta re-categorise them.
        expect(JSON.stringify(components)).not.toMatch(/https?:\/\/|%|gratis|free|offer|oferta|promo/i);
      }
      expect(checkTranslationsConsistent(translations)).toEqual([]);
    },
  );

  it('renders every translation from its own examples', () => {
    for (const template of catalog) {
      for (const [language, { components }] of Object.entries(template.translations)) {
        const body = components.find((c) => c.type === 'BODY') as {
          example?: { body_text_named_params?: { param_name: string; example: string }[] };
        };
        const parameters = Object.fromEntries((body.example?.body_text_named_params ?? []).map((e) => [e.param_name, e.example]));
        const result = renderTemplate(
          { name: template.name, language, status: 'APPROVED', parameterFormat: template.parameterFormat, components },
          { parameters },
        );
        expect(result.ok ? 'ok' : `${template.name}/${language}: ${result.errors.join('; ')}`).toBe('ok');
      }
    }
  });
});
