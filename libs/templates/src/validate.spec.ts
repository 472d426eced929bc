import { checkTranslationsConsistent, validateTemplateDefinition } from './validate';
import type { TemplateComponent, TemplateDefinition, TemplateIssue } from './types';

/** A valid positional utility template; each test breaks one rule. */
function positional(overrides: Partial<TemplateDefinition> = {}): TemplateDefinition {
  return {
    name: 'document_expiring',
    language: 'en',
    category: 'UTILITY',
    components: [
      { type: 'HEADER', format: 'TEXT', text: 'Your {{1}} expires soon', example: { header_text: ['driving licence'] } },
      {
        type: 'BODY',
        text: 'Hello {{1}}, your {{2}} expires on {{3}}. You can renew it at any service centre.',
        example: { body_text: [['Ana', 'driving licence', '12 March 2026']] },
      },
      { type: 'FOOTER', text: 'National Roads Agency' },
      {
        type: 'BUTTONS',
        buttons: [
          { type: 'QUICK_REPLY', text: 'Remind me later' },
          { type: 'QUICK_REPLY', text: 'Talk to an officer' },
          { type: 'URL', text: 'Renew online', url: 'https://roads.example.gov/renew/{{1}}', example: ['ab12'] },
        ],
      },
    ],
    ...overrides,
  };
}

function named(overrides: Partial<TemplateDefinition> = {}): TemplateDefinition {
  return {
    name: 'payment_due',
    language: 'es',
    category: 'UTILITY',
    parameterFormat: 'named',
    components: [
      {
        type: 'BODY',
        text: 'Hola {{first_name}}, el pago de {{amount}} vence el {{due_date}}. Puede pagar en línea o en una oficina.',
        example: {
          body_text_named_params: [
            { param_name: 'first_name', example: 'Ana' },
            { param_name: 'amount', example: '120.00 COP' },
            { param_name: 'due_date', example: '1 de marzo' },
          ],
        },
      },
    ],
    ...overrides,
  };
}

function withBody(def: TemplateDefinition, body: Partial<Extract<TemplateComponent, { type: 'BODY' }>>): TemplateDefinition {
  return {
    ...def,
    components: def.components.map((c) => (c.type === 'BODY' ? ({ ...c, ...body } as TemplateComponent) : c)),
  };
}

function withComponent(
  def: TemplateDefinition,
  type: TemplateComponent['type'],
  replacement: TemplateComponent | null,
): TemplateDefinition {
  const components = def.components.filter((c) => c.type !== type);
  return { ...def, components: replacement ? [...components, replacement] : components };
}

function codes(def: TemplateDefinition): string[] {
  const result = validateTemplateDefinition(def);
  return result.ok ? [] : result.issues.map((i: TemplateIssue) => i.code);
}

function errorsOf(def: TemplateDefinition): string[] {
  const result = validateTemplateDefinition(def);
  return result.ok ? [] : result.errors;
}

describe('validateTemplateDefinition', () => {
  describe('good templates', () => {
    it('accepts a positional template with header, body, footer and buttons, and lists its parameters', () => {
      const result = validateTemplateDefinition(positional());
      expect(result).toEqual({
        ok: true,
        parameters: [
          { component: 'header', name: '1', type: 'text', required: true, example: 'driving licence' },
          { component: 'body', name: '1', type: 'text', required: true, example: 'Ana' },
          { component: 'body', name: '2', type: 'text', required: true, example: 'driving licence' },
          { component: 'body', name: '3', type: 'text', required: true, example: '12 March 2026' },
          { component: 'button', name: 'payload', type: 'payload', buttonIndex: 0, required: false },
          { component: 'button', name: 'payload', type: 'payload', buttonIndex: 1, required: false },
          { component: 'button', name: '1', type: 'text', buttonIndex: 2, required: true, example: 'ab12' },
        ],
      });
    });

    it('accepts a named template (Spanish, accents count as one character)', () => {
      const result = validateTemplateDefinition(named());
      expect(result.ok).toBe(true);
      if (result.ok) expect(result.parameters.map((p) => p.name)).toEqual(['first_name', 'amount', 'due_date']);
    });

    it('accepts a body without variables and no example', () => {
      expect(
        codes(withBody(named({ parameterFormat: undefined }), { text: 'Your documents are ready for collection.', example: undefined })),
      ).toEqual([]);
    });

    it('accepts positional variables that appear out of order in the text', () => {
      const def = withBody(positional(), {
        text: 'On {{2}} we received the payment from {{1}} for your application, thank you very much.',
        example: { body_text: [['Ana', '3 May']] },
      });
      expect(codes(def)).toEqual([]);
    });

    it('accepts media headers with a sample handle and a location header', () => {
      const image = withComponent(positional(), 'HEADER', {
        type: 'HEADER',
        format: 'DOCUMENT',
        example: { header_handle: ['4::aW1hZ2U='] },
      });
      expect(codes(image)).toEqual([]);
      const location = withComponent(positional(), 'HEADER', { type: 'HEADER', format: 'LOCATION' });
      expect(codes(location)).toEqual([]);
    });

    it('accepts quick replies after the other buttons (one block each)', () => {
      const def = withComponent(positional(), 'BUTTONS', {
        type: 'BUTTONS',
        buttons: [
          { type: 'URL', text: 'Open portal', url: 'https://roads.example.gov/' },
          { type: 'PHONE_NUMBER', text: 'Call us', phone_number: '+5716010100' },
          { type: 'QUICK_REPLY', text: 'Yes' },
          { type: 'QUICK_REPLY', text: 'No' },
        ],
      });
      expect(codes(def)).toEqual([]);
    });

    it('accepts Arabic text with its variables', () => {
      const def = withBody(positional({ language: 'ar' }), {
        text: 'مرحباً {{1}}، تنتهي صلاحية {{2}} في {{3}}. يمكنك التجديد في أي مركز خدمة.',
        example: { body_text: [['فاطمة', 'الإقامة', '12 مارس 2026']] },
      });
      expect(codes(withComponent(def, 'HEADER', null))).toEqual([]);
    });
  });

  describe('name', () => {
    it.each([
      ['Document_Expiring', 'name.invalid'],
      ['document-expiring', 'name.invalid'],
      ['document expiring', 'name.invalid'],
      ['', 'name.required'],
      ['a'.repeat(513), 'name.too_long'],
    ])('rejects %j', (name, code) => {
      expect(codes(positional({ name }))).toEqual([code]);
    });

    it('accepts 512 characters of lowercase, digits and underscores', () => {
      expect(codes(positional({ name: 'a1_'.repeat(170) + 'ab' }))).toEqual([]);
    });
  });

  describe('language', () => {
    it.each(['en', 'en_US', 'pt_BR', 'ar_AE', 'fil', 'prs_AF', 'es_MX'])('accepts %s', (language) => {
      expect(codes(positional({ language }))).toEqual([]);
    });

    it('explains a hyphenated code and suggests the right one', () => {
      expect(errorsOf(positional({ language: 'en-US' }))).toEqual([
        'language: language "en-US" is not in Meta\'s format: "ll" or "ll_CC" with an underscore; did you mean "en_US"?',
      ]);
    });

    it.each(['EN', 'en_us', 'english', 'pt-br'])('rejects the malformed code %s', (language) => {
      expect(codes(positional({ language }))).toEqual(['language.invalid']);
    });

    it('rejects a well-formed code Meta does not support, naming the supported variants', () => {
      expect(errorsOf(positional({ language: 'pt' }))).toEqual([
        'language: language "pt" is not a template language Meta supports; supported for "pt": pt_BR, pt_PT',
      ]);
    });
  });

  describe('category and parameter format', () => {
    it('rejects an unknown category', () => {
      expect(codes(positional({ category: 'TRANSACTIONAL' }))).toEqual(['category.invalid']);
    });

    it('refuses to author AUTHENTICATION templates (Meta fixes their content)', () => {
      expect(codes(positional({ category: 'AUTHENTICATION' }))).toEqual(['category.authentication_unsupported']);
    });

    it('rejects an unknown parameter format', () => {
      expect(codes(positional({ parameterFormat: 'NAMED' as never }))).toContain('parameter_format.invalid');
    });
  });

  describe('components', () => {
    it('requires exactly one body', () => {
      expect(codes(withComponent(positional(), 'BODY', null))).toEqual(['body.required']);
      const twoBodies = positional();
      twoBodies.components.push({ type: 'BODY', text: 'Another body here.' });
      expect(codes(twoBodies)).toEqual(['component.duplicate']);
    });

    it('rejects unknown component types', () => {
      const def = positional();
      def.components.push({ type: 'CAROUSEL' } as never);
      expect(codes(def)).toEqual(['component.unknown_type']);
    });

    it('rejects an empty component list', () => {
      expect(codes(positional({ components: [] }))).toEqual(['components.required']);
    });
  });

  describe('body', () => {
    it('allows 1024 characters and rejects 1025', () => {
      expect(codes(withBody(named(), { text: 'a '.repeat(512), example: undefined }))).toEqual([]);
      expect(errorsOf(withBody(named(), { text: 'a'.repeat(1025), example: undefined }))).toEqual([
        'components[0].text: body has 1025 characters; Meta allows 1024',
      ]);
    });

    it('rejects a variable at the start', () => {
      const def = withBody(positional(), {
        text: '{{1}}, your licence expires on {{2}}. Renew it at a service centre soon.',
        example: { body_text: [['Ana', 'Monday']] },
      });
      expect(codes(def)).toEqual(['body.leading_variable']);
    });

    it('rejects a variable at the end, even when followed by punctuation', () => {
      const end = withBody(positional(), {
        text: 'Hello {{1}}, your licence expires on the following date: {{2}}',
        example: { body_text: [['Ana', 'Monday']] },
      });
      expect(codes(end)).toEqual(['body.trailing_variable']);
      const endDot = withBody(positional(), {
        text: 'Hello {{1}}, your licence expires on the following date: {{2}}.',
        example: { body_text: [['Ana', 'Monday']] },
      });
      expect(codes(endDot)).toEqual(['body.trailing_variable']);
    });

    it('rejects adjacent variables (only spaces or punctuation between them)', () => {
      const def = withBody(positional(), {
        text: 'Hello {{1}} {{2}}, your licence expires on {{3}}. Please renew it at a service centre.',
        example: { body_text: [['Ana', 'Pérez', 'Monday']] },
      });
      expect(errorsOf(def)).toEqual(['components[1].text: {{1}} and {{2}} are adjacent; put words between them']);
    });

    it('rejects too many variables for the length (2 words per variable + 1)', () => {
      const def = withBody(positional(), { text: 'Hi {{1}}, gate {{2}} now {{3}} ok.', example: { body_text: [['a', 'b', 'c']] } });
      expect(codes(def)).toEqual(['body.too_many_variables']);
    });

    it('requires positional numbering from 1 without gaps', () => {
      const def = withBody(positional(), {
        text: 'Hello {{1}}, your licence expires on {{3}}. Please renew it soon.',
        example: { body_text: [['Ana', 'Monday']] },
      });
      expect(errorsOf(def)).toContain('components[1].text: positional variables must be numbered 1..n without gaps; missing {{2}}');
    });

    it('rejects a repeated variable', () => {
      const def = withBody(positional(), {
        text: 'Hello {{1}}, dear {{1}}, your licence expires soon. Please renew it at a centre.',
        example: { body_text: [['Ana']] },
      });
      expect(codes(def)).toContain('placeholder.repeated');
    });

    it.each(['{{ 1 }}', '{{First}}', '{{first-name}}', '{{0}}', '{{}}'])('rejects the malformed variable %s', (token) => {
      const def = withBody(positional(), {
        text: `Hello ${token}, your licence expires soon. Please renew it at a centre.`,
        example: undefined,
      });
      expect(codes(def)).toContain('placeholder.malformed');
    });

    it('rejects unbalanced braces', () => {
      const def = withBody(positional(), {
        text: 'Hello {{1}, your licence expires soon. Please renew it at a centre.',
        example: undefined,
      });
      expect(codes(def)).toContain('placeholder.unbalanced');
    });

    it('rejects mixing named variables into a positional template', () => {
      const def = withBody(positional(), {
        text: 'Hello {{name}}, your licence expires soon. Please renew it at a centre.',
        example: undefined,
      });
      expect(codes(def)).toEqual(['placeholder.wrong_format']);
    });

    it('rejects positional variables in a named template', () => {
      const def = withBody(named(), { text: 'Hola {{1}}, su licencia vence pronto. Puede renovarla en una oficina.', example: undefined });
      expect(codes(def)).toEqual(['placeholder.wrong_format']);
    });
  });

  describe('examples', () => {
    it('requires positional examples, one per variable', () => {
      expect(codes(withBody(positional(), { example: undefined }))).toEqual(['example.required']);
      expect(errorsOf(withBody(positional(), { example: { body_text: [['Ana', 'licence']] } }))).toEqual([
        'components[1].example.body_text: example.body_text has 2 value(s) for 3 variable(s)',
      ]);
      expect(codes(withBody(positional(), { example: { body_text: [['Ana', ' ', 'Monday']] } }))).toEqual(['example.empty']);
    });

    it('requires named examples covering exactly the variables', () => {
      const missing = withBody(named(), {
        example: {
          body_text_named_params: [
            { param_name: 'first_name', example: 'Ana' },
            { param_name: 'amount', example: '12' },
            { param_name: 'expiry', example: 'x' },
          ],
        },
      });
      expect(errorsOf(missing)).toEqual([
        'components[0].example.body_text_named_params[2]: "expiry" is not a variable of this text',
        'components[0].example.body_text_named_params: no example for {{due_date}}',
      ]);
    });

    it('rejects examples in the other format', () => {
      const def = withBody(named(), { example: { body_text: [['a', 'b', 'c']] } });
      expect(codes(def)).toEqual(['example.required', 'example.wrong_format']);
    });

    it('rejects an example for a body without variables', () => {
      expect(codes(withBody(named(), { text: 'Your documents are ready for collection.', example: { body_text: [['x']] } }))).toEqual([
        'example.unexpected',
      ]);
    });
  });

  describe('header', () => {
    it('limits text headers to 60 characters and one variable', () => {
      const long = withComponent(positional(), 'HEADER', { type: 'HEADER', format: 'TEXT', text: 'x'.repeat(61) });
      expect(codes(long)).toEqual(['header.too_long']);
      const two = withComponent(positional(), 'HEADER', {
        type: 'HEADER',
        format: 'TEXT',
        text: 'Your {{1}} and {{2}}',
        example: { header_text: ['a'] },
      });
      expect(codes(two)).toContain('header.too_many_variables');
    });

    it('requires the header example and {{1}} as its variable', () => {
      expect(codes(withComponent(positional(), 'HEADER', { type: 'HEADER', format: 'TEXT', text: 'Your {{1}} expires' }))).toEqual([
        'example.required',
      ]);
      expect(
        codes(
          withComponent(positional(), 'HEADER', {
            type: 'HEADER',
            format: 'TEXT',
            text: 'Your {{2}} expires',
            example: { header_text: ['x'] },
          }),
        ),
      ).toContain('placeholder.numbering');
    });

    it('rejects emoji, new lines and formatting characters in header text', () => {
      expect(codes(withComponent(positional(), 'HEADER', { type: 'HEADER', format: 'TEXT', text: 'Licence ⏰' }))).toEqual([
        'header.emoji',
      ]);
      expect(codes(withComponent(positional(), 'HEADER', { type: 'HEADER', format: 'TEXT', text: 'Line\nbreak' }))).toEqual([
        'header.newline',
      ]);
      expect(codes(withComponent(positional(), 'HEADER', { type: 'HEADER', format: 'TEXT', text: '*Important*' }))).toEqual([
        'header.formatting',
      ]);
    });

    it('requires a sample handle for media headers and no text', () => {
      expect(codes(withComponent(positional(), 'HEADER', { type: 'HEADER', format: 'IMAGE' }))).toEqual(['example.required']);
      expect(
        codes(withComponent(positional(), 'HEADER', { type: 'HEADER', format: 'VIDEO', text: 'x', example: { header_handle: ['h'] } })),
      ).toEqual(['header.text_not_allowed']);
    });

    it('rejects unknown header formats', () => {
      expect(codes(withComponent(positional(), 'HEADER', { type: 'HEADER', format: 'GIF' as never }))).toEqual(['header.format']);
    });

    it('uses header_text_named_params in named templates', () => {
      const def: TemplateDefinition = {
        ...named(),
        components: [
          ...named().components,
          {
            type: 'HEADER',
            format: 'TEXT',
            text: 'Pago de {{amount}}',
            example: { header_text_named_params: [{ param_name: 'amount', example: '12' }] },
          },
        ],
      };
      expect(codes(def)).toEqual([]);
      const wrong = {
        ...def,
        components: [
          ...named().components,
          { type: 'HEADER', format: 'TEXT', text: 'Pago de {{amount}}', example: { header_text: ['12'] } },
        ],
      };
      expect(codes(wrong as TemplateDefinition)).toEqual(['example.required', 'example.wrong_format']);
    });
  });

  describe('footer', () => {
    it('limits the footer to 60 characters without variables', () => {
      expect(codes(withComponent(positional(), 'FOOTER', { type: 'FOOTER', text: 'x'.repeat(61) }))).toEqual(['footer.too_long']);
      expect(codes(withComponent(positional(), 'FOOTER', { type: 'FOOTER', text: 'Ref {{1}}' }))).toEqual(['footer.variable']);
    });
  });

  describe('buttons', () => {
    const withButtons = (buttons: unknown[]) => withComponent(positional(), 'BUTTONS', { type: 'BUTTONS', buttons } as TemplateComponent);

    it('allows at most 10 buttons', () => {
      const eleven = Array.from({ length: 11 }, (_, i) => ({ type: 'QUICK_REPLY', text: `Option ${i}` }));
      expect(codes(withButtons(eleven))).toEqual(['buttons.too_many', 'buttons.kind_limit']);
      expect(codes(withButtons(eleven.slice(0, 10)))).toEqual([]);
    });

    it('allows at most 2 URL buttons and 1 phone button', () => {
      const urls = [1, 2, 3].map((i) => ({ type: 'URL', text: `Link ${i}`, url: `https://example.gov/${i}` }));
      expect(errorsOf(withButtons(urls))).toEqual(['components[3].buttons: 3 URL buttons; Meta allows 2']);
      const phones = [1, 2].map((i) => ({ type: 'PHONE_NUMBER', text: `Call ${i}`, phone_number: '+5716010100' }));
      expect(codes(withButtons(phones))).toEqual(['buttons.kind_limit']);
    });

    it('requires quick replies to be grouped together', () => {
      const interleaved = [
        { type: 'QUICK_REPLY', text: 'Yes' },
        { type: 'URL', text: 'Portal', url: 'https://example.gov/' },
        { type: 'QUICK_REPLY', text: 'No' },
      ];
      expect(codes(withButtons(interleaved))).toEqual(['buttons.grouping']);
    });

    it('limits labels to 25 characters and forbids variables and duplicates', () => {
      expect(codes(withButtons([{ type: 'QUICK_REPLY', text: 'x'.repeat(26) }]))).toEqual(['button.label_too_long']);
      expect(codes(withButtons([{ type: 'QUICK_REPLY', text: 'Hi {{1}}' }]))).toEqual(['button.label_variable']);
      expect(
        codes(
          withButtons([
            { type: 'QUICK_REPLY', text: 'Yes' },
            { type: 'QUICK_REPLY', text: 'Yes' },
          ]),
        ),
      ).toEqual(['button.label_duplicate']);
      expect(codes(withButtons([{ type: 'QUICK_REPLY' }]))).toEqual(['button.label_required']);
    });

    it('allows one trailing {{1}} in a URL, with an example', () => {
      expect(codes(withButtons([{ type: 'URL', text: 'Open', url: 'https://example.gov/a/{{1}}' }]))).toEqual(['example.required']);
      expect(codes(withButtons([{ type: 'URL', text: 'Open', url: 'https://example.gov/{{1}}/x', example: ['a'] }]))).toEqual([
        'button.url_variable_position',
      ]);
      expect(codes(withButtons([{ type: 'URL', text: 'Open', url: 'https://example.gov/{{1}}{{2}}', example: ['a'] }]))).toEqual([
        'button.url_variables',
      ]);
      expect(codes(withButtons([{ type: 'URL', text: 'Open', url: 'https://example.gov/{{2}}', example: ['a'] }]))).toEqual([
        'button.url_variable_name',
      ]);
      expect(codes(withButtons([{ type: 'URL', text: 'Open', url: 'https://{{1}}', example: ['a'] }]))).toContain('button.url_invalid');
      expect(codes(withButtons([{ type: 'URL', text: 'Open', url: 'https://example{{1}}', example: ['a'] }]))).toEqual([
        'button.url_variable_host',
      ]);
      expect(codes(withButtons([{ type: 'URL', text: 'Open', url: 'https://example.gov/?ref={{1}}', example: ['a'] }]))).toEqual([]);
    });

    it('rejects non-web and over-long URLs', () => {
      expect(codes(withButtons([{ type: 'URL', text: 'Open', url: 'ftp://example.gov/' }]))).toEqual(['button.url_scheme']);
      expect(codes(withButtons([{ type: 'URL', text: 'Open', url: `https://example.gov/${'a'.repeat(2000)}` }]))).toEqual([
        'button.url_too_long',
      ]);
      expect(codes(withButtons([{ type: 'URL', text: 'Open', url: 'not a url' }]))).toEqual(['button.url_invalid']);
    });

    it('checks the phone number format', () => {
      expect(codes(withButtons([{ type: 'PHONE_NUMBER', text: 'Call', phone_number: '601 0100' }]))).toEqual(['button.phone_invalid']);
      expect(codes(withButtons([{ type: 'PHONE_NUMBER', text: 'Call', phone_number: '+97145550100' }]))).toEqual([]);
    });

    it('allows COPY_CODE only in marketing templates', () => {
      const copy = [{ type: 'COPY_CODE', example: 'RENEW10' }];
      expect(codes(withButtons(copy))).toEqual(['button.copy_code_category']);
      expect(codes({ ...withButtons(copy), category: 'MARKETING' })).toEqual([]);
    });

    it('rejects button types the registry does not author', () => {
      expect(codes(withButtons([{ type: 'FLOW', text: 'Start' }]))).toEqual(['button.unsupported_type']);
    });

    it('rejects an empty button list', () => {
      expect(codes(withButtons([]))).toEqual(['buttons.required']);
    });
  });
});

describe('checkTranslationsConsistent', () => {
  const params = (def: TemplateDefinition) => {
    const r = validateTemplateDefinition(def);
    if (!r.ok) throw new Error(r.errors.join('; '));
    return { language: def.language, parameterFormat: def.parameterFormat, category: String(def.category), parameters: r.parameters };
  };

  it('accepts translations with the same parameters', () => {
    const fr = withBody(named({ language: 'fr' }), {
      text: 'Bonjour {{first_name}}, le paiement de {{amount}} est dû le {{due_date}}. Vous pouvez payer en ligne ou au guichet.',
    });
    expect(checkTranslationsConsistent([params(named()), params(fr)])).toEqual([]);
  });

  it('names the variables a translation lacks or adds', () => {
    const fr = withBody(named({ language: 'fr' }), {
      text: 'Bonjour {{first_name}}, le paiement de {{amount}} est dû le {{date}}. Vous pouvez payer en ligne ou au guichet.',
      example: {
        body_text_named_params: [
          { param_name: 'first_name', example: 'Ana' },
          { param_name: 'amount', example: '12' },
          { param_name: 'date', example: '1 mars' },
        ],
      },
    });
    expect(checkTranslationsConsistent([params(named()), params(fr)])).toEqual([
      {
        path: 'translations.fr',
        code: 'translations.parameters',
        message: 'fr must take the same parameters as es: it lacks body {{due_date}} and adds body {{date}}',
      },
    ]);
  });

  it('rejects mixing parameter formats and categories across translations', () => {
    const en = positional({ language: 'en' });
    const es = positional({ language: 'es', category: 'MARKETING' });
    expect(checkTranslationsConsistent([params(en), params(es)]).map((i) => i.code)).toEqual(['translations.category']);
    expect(checkTranslationsConsistent([params(named()), params(en)]).map((i) => i.code)).toEqual(['translations.parameter_format']);
  });

  it('notices a button variable missing in one translation', () => {
    const en = positional();
    const es = withComponent(positional({ language: 'es' }), 'BUTTONS', {
      type: 'BUTTONS',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Recordar luego' },
        { type: 'QUICK_REPLY', text: 'Hablar con agente' },
        { type: 'URL', text: 'Renovar', url: 'https://roads.example.gov/renew' },
      ],
    });
    expect(checkTranslationsConsistent([params(en), params(es)])[0].message).toBe(
      'es must take the same parameters as en: it lacks button[2] URL suffix',
    );
  });
});
