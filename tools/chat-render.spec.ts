import { bidi, inboundSpec, parseInput, photoMimeType, renderMessage, type ChatOption } from './chat-render';

const RLI = '\u2067';
const PDI = '\u2069';

describe('renderMessage', () => {
  it('shows text as it is, line by line', () => {
    expect(renderMessage({ type: 'text', text: { body: 'Hola\n¿Qué tal?' } })).toEqual({ lines: ['Hola', '¿Qué tal?'], options: [] });
  });

  it('numbers reply buttons and offers them as button replies', () => {
    const r = renderMessage({
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: '¿Le podemos ayudar con algo más?' },
        footer: { text: 'Canal oficial' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'menu', title: 'Menú principal' } },
            { type: 'reply', reply: { id: 'done', title: 'No, gracias' } },
          ],
        },
      },
    });
    expect(r.lines).toEqual(['¿Le podemos ayudar con algo más?', '_Canal oficial_', '  [1] Menú principal', '  [2] No, gracias']);
    expect(r.options).toEqual([
      { kind: 'button_reply', id: 'menu', title: 'Menú principal' },
      { kind: 'button_reply', id: 'done', title: 'No, gracias' },
    ]);
  });

  it('shows a list under its button label, rows numbered with their descriptions', () => {
    const r = renderMessage({
      type: 'interactive',
      interactive: {
        type: 'list',
        header: { type: 'text', text: 'Agencia' },
        body: { text: 'Elija' },
        action: {
          button: 'Ver opciones',
          sections: [
            {
              rows: [
                { id: 'renewal', title: '🪪 Renovar licencia', description: 'Pasos y tarifas' },
                { id: 'fees', title: 'Tarifas' },
              ],
            },
          ],
        },
      },
    });
    expect(r.lines).toEqual([
      '*Agencia*',
      'Elija',
      '  ☰ Ver opciones',
      '    [1] 🪪 Renovar licencia',
      '        Pasos y tarifas',
      '    [2] Tarifas',
    ]);
    expect(r.options[0]).toEqual({ kind: 'list_reply', id: 'renewal', title: '🪪 Renovar licencia', description: 'Pasos y tarifas' });
  });

  it('wraps Arabic lines in RLI/PDI, and leaves Latin lines alone', () => {
    const r = renderMessage({
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'هل يمكننا مساعدتك في أمر آخر؟\nIMM-2026-000001' },
        action: { buttons: [{ type: 'reply', reply: { id: 'menu', title: 'القائمة الرئيسية' } }] },
      },
    });
    expect(r.lines).toEqual([`${RLI}هل يمكننا مساعدتك في أمر آخر؟${PDI}`, 'IMM-2026-000001', `  ${RLI}[1] القائمة الرئيسية${PDI}`]);
    expect(r.options[0].title).toBe('القائمة الرئيسية');
    expect(bidi('abc')).toBe('abc');
    expect(bidi('שלום')).toBe(`${RLI}שלום${PDI}`);
    // The first letter decides: a Latin line quoting Arabic stays left-to-right, and the reverse.
    expect(bidi('    Español, English, العربية')).toBe('    Español, English, العربية');
    expect(bidi('✅ تمت الموافقة على الطلب IMM-2026-000001')).toBe(`${RLI}✅ تمت الموافقة على الطلب IMM-2026-000001${PDI}`);
  });

  it('shows a CTA button with its link, and where the sandbox serves a stand-in agency link', () => {
    const r = renderMessage(
      {
        type: 'interactive',
        interactive: {
          type: 'cta_url',
          body: { text: 'Pague en línea' },
          action: { name: 'cta_url', parameters: { display_text: 'Pagar ahora', url: 'https://agency.example.gov/roads/pay' } },
        },
      },
      { sandboxUrl: 'http://127.0.0.1:3100' },
    );
    expect(r.lines).toEqual([
      'Pague en línea',
      '  🔗 Pagar ahora: https://agency.example.gov/roads/pay  (sandbox: http://127.0.0.1:3100/agency/roads/pay)',
    ]);
    expect(r.options).toEqual([]);
  });

  it('shows media with its file name, link and caption, and locations with coordinates', () => {
    const doc = renderMessage({
      type: 'document',
      document: { link: 'https://files.example.org/a.pdf', filename: 'lista.pdf', caption: 'Lista de documentos' },
    });
    expect(doc.lines).toEqual(['📄 document lista.pdf: https://files.example.org/a.pdf', 'Lista de documentos']);
    expect(renderMessage({ type: 'image', image: { id: '123' } }).lines).toEqual(['🖼 image: media id 123']);
    const arabicCaption = renderMessage({ type: 'document', document: { link: 'https://x.example/a.pdf', caption: 'قائمة المستندات' } });
    expect(arabicCaption.lines[1]).toBe(`${RLI}قائمة المستندات${PDI}`);
    expect(
      renderMessage({ type: 'location', location: { latitude: 25.2, longitude: 55.3, name: 'Main office', address: '12 Street' } }).lines,
    ).toEqual(['📍 Main office — 12 Street (25.2, 55.3)']);
  });

  it('renders a template from the sandbox catalogue with its parameters and quick replies', () => {
    const templates = [
      {
        name: 'document_expiring',
        language: 'es',
        components: [
          { type: 'BODY', text: 'Hola {{first_name}}, su {{document}} vence pronto.' },
          {
            type: 'BUTTONS',
            buttons: [
              { type: 'QUICK_REPLY', text: 'Cómo renovar' },
              { type: 'QUICK_REPLY', text: 'Hablar con un agente' },
            ],
          },
        ],
      },
    ];
    const payload = {
      type: 'template',
      template: {
        name: 'document_expiring',
        language: { code: 'es' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', parameter_name: 'first_name', text: 'Ana' },
              { type: 'text', parameter_name: 'document', text: 'licencia' },
            ],
          },
          { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'renew:123' }] },
        ],
      },
    };
    const r = renderMessage(payload, { templates });
    expect(r.lines).toEqual([
      '[template document_expiring (es)]',
      'Hola Ana, su licencia vence pronto.',
      '  [1] Cómo renovar',
      '  [2] Hablar con un agente',
    ]);
    expect(r.options).toEqual([
      { kind: 'button', title: 'Cómo renovar', payload: 'renew:123' },
      { kind: 'button', title: 'Hablar con un agente', payload: 'Hablar con un agente' },
    ]);
    expect(renderMessage(payload).lines).toEqual(['[template document_expiring (es)]', '(its text is not in the sandbox)']);
  });
});

describe('parseInput', () => {
  const options: ChatOption[] = [
    { kind: 'list_reply', id: 'renewal', title: '🪪 Renovar licencia' },
    { kind: 'list_reply', id: 'menu', title: 'Menú principal' },
    { kind: 'button_reply', id: 'ar', title: 'القائمة الرئيسية' },
  ];

  it('picks an option by number (also Arabic-Indic digits) or by its exact title, accents optional', () => {
    expect(parseInput('2', options)).toEqual({ kind: 'pick', option: options[1] });
    expect(parseInput(' ٣ ', options)).toEqual({ kind: 'pick', option: options[2] });
    expect(parseInput('menu principal', options)).toEqual({ kind: 'pick', option: options[1] });
    expect(parseInput('القائمة الرئيسية', options)).toEqual({ kind: 'pick', option: options[2] });
  });

  it('sends anything else as text (a number out of range too)', () => {
    expect(parseInput('7', options)).toEqual({ kind: 'text', text: '7' });
    expect(parseInput('quiero renovar', options)).toEqual({ kind: 'text', text: 'quiero renovar' });
    expect(parseInput('   ', options)).toBeUndefined();
  });

  it('understands the commands and explains a wrong one', () => {
    expect(parseInput('/quit', [])).toEqual({ kind: 'quit' });
    expect(parseInput('/location 4.6097 -74.0817 Calle 26', [])).toEqual({
      kind: 'location',
      latitude: 4.6097,
      longitude: -74.0817,
      name: 'Calle 26',
    });
    expect(parseInput('/location 95 10', [])).toMatchObject({ kind: 'error' });
    expect(parseInput('/location north', [])).toMatchObject({ kind: 'error' });
    expect(parseInput('/photo ./pot hole.jpg', [])).toEqual({ kind: 'photo', path: './pot hole.jpg' });
    expect(parseInput('/photo', [])).toMatchObject({ kind: 'error' });
    expect(parseInput('/frobnicate', [])).toMatchObject({ kind: 'error', message: expect.stringContaining('/help') });
  });
});

describe('inboundSpec', () => {
  const base = { tenant: 'roads-agency', from: '+573001234567' };

  it('answers a list row or a reply button as WhatsApp does, with the context of the message it answers', () => {
    expect(
      inboundSpec({ kind: 'pick', option: { kind: 'list_reply', id: 'fees', title: 'Tarifas', description: 'Valores' } }, base, 'wamid.A'),
    ).toEqual({
      ...base,
      context: { messageId: 'wamid.A' },
      type: 'interactive',
      interactive: { kind: 'list_reply', id: 'fees', title: 'Tarifas', description: 'Valores' },
    });
    expect(inboundSpec({ kind: 'pick', option: { kind: 'button_reply', id: 'menu', title: 'Menú' } }, base)).toEqual({
      ...base,
      type: 'interactive',
      interactive: { kind: 'button_reply', id: 'menu', title: 'Menú' },
    });
  });

  it("answers a template's quick reply as a button message with its payload", () => {
    expect(inboundSpec({ kind: 'pick', option: { kind: 'button', title: 'Cómo renovar', payload: 'renew:1' } }, base, 'wamid.T')).toEqual({
      ...base,
      context: { messageId: 'wamid.T' },
      type: 'button',
      button: { text: 'Cómo renovar', payload: 'renew:1' },
    });
  });

  it('sends text and locations without context', () => {
    expect(inboundSpec({ kind: 'text', text: 'hola' }, base, 'wamid.A')).toEqual({ ...base, type: 'text', text: 'hola' });
    expect(inboundSpec({ kind: 'location', latitude: 1, longitude: 2 }, base)).toEqual({
      ...base,
      type: 'location',
      location: { latitude: 1, longitude: 2, name: undefined },
    });
  });

  it('knows which files are photos', () => {
    expect(photoMimeType('a/b.JPG')).toBe('image/jpeg');
    expect(photoMimeType('x.png')).toBe('image/png');
    expect(photoMimeType('notes.txt')).toBeUndefined();
  });
});
