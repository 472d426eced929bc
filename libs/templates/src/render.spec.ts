import { previewTemplate, renderTemplate } from './render';
import type { RenderableTemplate, TemplateComponent } from './types';

const positional: RenderableTemplate = {
  name: 'document_expiring',
  language: 'en',
  status: 'APPROVED',
  parameterFormat: 'positional',
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
        { type: 'PHONE_NUMBER', text: 'Call us', phone_number: '+5716010100' },
        { type: 'URL', text: 'Renew online', url: 'https://roads.example.gov/renew/{{1}}', example: ['ab12'] },
      ],
    },
  ] satisfies TemplateComponent[],
};

const named: RenderableTemplate = {
  name: 'payment_due',
  language: 'es',
  status: 'APPROVED',
  parameterFormat: 'named',
  components: [
    { type: 'HEADER', format: 'DOCUMENT', example: { header_handle: ['4::x'] } },
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
  ] satisfies TemplateComponent[],
};

describe('renderTemplate', () => {
  it('renders a positional template into the exact Cloud API components', () => {
    const result = renderTemplate(positional, {
      parameters: { 'header.1': 'driving licence', '1': 'Ana', '2': 'driving licence', '3': '12 March 2026' },
      buttonParameters: { '0': 'reminder:9f2c:later', '2': '9f2c' },
    });
    expect(result).toEqual({
      ok: true,
      components: [
        { type: 'header', parameters: [{ type: 'text', text: 'driving licence' }] },
        {
          type: 'body',
          parameters: [
            { type: 'text', text: 'Ana' },
            { type: 'text', text: 'driving licence' },
            { type: 'text', text: '12 March 2026' },
          ],
        },
        { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'reminder:9f2c:later' }] },
        { type: 'button', sub_type: 'url', index: '2', parameters: [{ type: 'text', text: '9f2c' }] },
      ],
      template: {
        name: 'document_expiring',
        language: { code: 'en' },
        components: expect.any(Array),
      },
    });
    if (result.ok) expect(result.template.components).toBe(result.components);
  });

  it('renders named parameters with parameter_name and a document header', () => {
    const result = renderTemplate(named, {
      parameters: { first_name: 'Fatima', amount: '120.000 COP', due_date: '1 de marzo de 2026' },
      headerMedia: { type: 'document', id: '880000000000777', filename: 'factura.pdf' },
    });
    expect(result.ok && result.components).toEqual([
      { type: 'header', parameters: [{ type: 'document', document: { id: '880000000000777', filename: 'factura.pdf' } }] },
      {
        type: 'body',
        parameters: [
          { type: 'text', parameter_name: 'first_name', text: 'Fatima' },
          { type: 'text', parameter_name: 'amount', text: '120.000 COP' },
          { type: 'text', parameter_name: 'due_date', text: '1 de marzo de 2026' },
        ],
      },
    ]);
  });

  it('orders positional values by number whatever the key order', () => {
    const result = renderTemplate(positional, {
      parameters: { '3': 'c', 'header.1': 'h', '2': 'b', '1': 'a' },
      buttonParameters: { '2': 's' },
    });
    expect(result.ok && result.components[1]).toEqual({
      type: 'body',
      parameters: [
        { type: 'text', text: 'a' },
        { type: 'text', text: 'b' },
        { type: 'text', text: 'c' },
      ],
    });
  });

  it('renders a template without variables as a template with no components', () => {
    const plain: RenderableTemplate = { ...positional, components: [{ type: 'BODY', text: 'Your documents are ready for collection.' }] };
    expect(renderTemplate(plain, {})).toEqual({
      ok: true,
      components: [],
      template: { name: 'document_expiring', language: { code: 'en' } },
    });
  });

  it.each(['PAUSED', 'PENDING', 'REJECTED', 'DISABLED', 'DRAFT'])('refuses to render a %s template', (status) => {
    const result = renderTemplate({ ...positional, status }, {});
    expect(result).toEqual({
      ok: false,
      errors: [`status: template document_expiring (en) is ${status}; only APPROVED templates can be sent`],
      issues: [{ path: 'status', code: 'template.not_sendable', message: expect.any(String) }],
    });
  });

  it('renders a non-approved template only when asked to (previews)', () => {
    const result = renderTemplate(
      { ...named, status: 'PENDING' },
      {
        parameters: { first_name: 'A', amount: 'B', due_date: 'C' },
        headerMedia: { type: 'document', link: 'https://example.gov/a.pdf' },
      },
      { allowUnapproved: true },
    );
    expect(result.ok).toBe(true);
  });

  it('names every missing value', () => {
    const result = renderTemplate(positional, { parameters: { '1': 'Ana' } });
    expect(result.ok ? [] : result.errors).toEqual([
      'parameters.header.1: header variable {{1}} needs a value (key "header.1")',
      'parameters.2: body variable {{2}} needs a value (key "2")',
      'parameters.3: body variable {{3}} needs a value (key "3")',
      'buttonParameters.2: button 2 (URL) needs the URL suffix (buttonParameters["2"])',
    ]);
  });

  it('rejects values no variable asks for, unless told to ignore them', () => {
    const input = {
      parameters: { first_name: 'A', amount: 'B', due_date: 'C', office: 'X' },
      headerMedia: { type: 'document' as const, id: '1' },
    };
    const strict = renderTemplate(named, input);
    expect(strict.ok ? [] : strict.errors).toEqual(['parameters.office: "office" is not a variable of payment_due (es)']);
    expect(renderTemplate(named, input, { ignoreUnknownParameters: true }).ok).toBe(true);
  });

  it('rejects text values Meta refuses (new lines, tabs, 5 spaces, empty)', () => {
    const base = { 'header.1': 'h', '1': 'a', '2': 'b', '3': 'c' };
    for (const bad of ['two\nlines', 'tab\there', 'five     spaces', '   ']) {
      const result = renderTemplate(positional, { parameters: { ...base, '2': bad }, buttonParameters: { '2': 's' } });
      expect(result.ok ? 'ok' : result.issues[0].code).toBe('parameter.invalid');
    }
  });

  it('rejects a body that would exceed 1024 characters once filled', () => {
    const result = renderTemplate(positional, {
      parameters: { 'header.1': 'h', '1': 'a'.repeat(1000), '2': 'b', '3': 'c' },
      buttonParameters: { '2': 's' },
    });
    expect(result.ok ? 'ok' : result.issues.map((i) => i.code)).toEqual(['body.rendered_too_long']);
  });

  it('checks the media header: kind, one of id/link, https', () => {
    const values = { first_name: 'A', amount: 'B', due_date: 'C' };
    const codes = (headerMedia: unknown) => {
      const r = renderTemplate(named, { parameters: values, headerMedia: headerMedia as never });
      return r.ok ? [] : r.issues.map((i) => `${i.path}:${i.code}`);
    };
    expect(codes(undefined)).toEqual(['headerMedia:parameter.missing']);
    expect(codes({ type: 'image', id: '1' })).toEqual(['headerMedia.type:parameter.invalid']);
    expect(codes({ type: 'document', id: '1', link: 'https://x' })).toEqual(['headerMedia:parameter.invalid']);
    expect(codes({ type: 'document', link: 'http://insecure.example/a.pdf' })).toEqual(['headerMedia.link:parameter.invalid']);
  });

  it('renders a location header', () => {
    const withLocation: RenderableTemplate = {
      ...positional,
      components: [
        { type: 'HEADER', format: 'LOCATION' },
        { type: 'BODY', text: 'Your documents are ready at this office.' },
      ],
    };
    const location = { latitude: 4.6, longitude: -74.08, name: 'Oficina Central', address: 'Calle 26 # 59-51, Bogotá' };
    expect(renderTemplate(withLocation, { headerLocation: location })).toMatchObject({
      ok: true,
      components: [{ type: 'header', parameters: [{ type: 'location', location }] }],
    });
    expect(renderTemplate(withLocation, {}).ok).toBe(false);
  });

  it('rejects values for buttons that take none', () => {
    const result = renderTemplate(positional, {
      parameters: { 'header.1': 'h', '1': 'a', '2': 'b', '3': 'c' },
      buttonParameters: { '1': 'x', '2': 's', '7': 'y' },
    });
    expect(result.ok ? [] : result.errors).toEqual([
      'buttonParameters.1: button 1 (PHONE_NUMBER) takes no value',
      'buttonParameters.7: document_expiring has no button 7',
    ]);
  });

  it('lets named templates fill the header from the plain name', () => {
    const t: RenderableTemplate = {
      ...named,
      components: [{ type: 'HEADER', format: 'TEXT', text: 'Pago de {{amount}}' }, named.components[1]],
    };
    const result = renderTemplate(t, { parameters: { first_name: 'A', amount: '12', due_date: 'C' } });
    expect(result.ok && result.components[0]).toEqual({
      type: 'header',
      parameters: [{ type: 'text', parameter_name: 'amount', text: '12' }],
    });
  });

  it('reports a corrupt catalog entry instead of throwing', () => {
    expect(renderTemplate({ ...positional, components: 'nope' as never }, {}).ok).toBe(false);
    expect(renderTemplate({ ...positional, components: [{ type: 'FOOTER', text: 'x' }] }, {}).ok).toBe(false);
  });
});

describe('previewTemplate', () => {
  it('fills variables from values, else from examples', () => {
    expect(previewTemplate(positional, { parameters: { '1': 'Luis' } })).toEqual({
      header: { format: 'TEXT', text: 'Your driving licence expires soon' },
      body: 'Hello Luis, your driving licence expires on 12 March 2026. You can renew it at any service centre.',
      footer: 'National Roads Agency',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Remind me later' },
        { type: 'PHONE_NUMBER', text: 'Call us', phoneNumber: '+5716010100' },
        { type: 'URL', text: 'Renew online', url: 'https://roads.example.gov/renew/ab12' },
      ],
    });
  });
});
