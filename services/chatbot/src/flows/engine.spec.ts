import { runTurn } from './engine';
import type { FlowDefinition, Session, TurnInput } from './flow.types';
import { Conversation, fakeContext, fixtureFlow, optionIds, optionTitles, sends, textOf } from './testing';

const flow = fixtureFlow();

async function at(node: string, language: 'es' | 'ar' = 'es', ctx = fakeContext({ language })): Promise<Conversation> {
  const c = new Conversation(flow, ctx);
  await c.send({ kind: 'start' });
  if (node !== 'main') {
    const path: Record<string, TurnInput[]> = {
      report_kind: [{ kind: 'reply', id: 'report', title: '' }],
      report_photo: [
        { kind: 'reply', id: 'report', title: '' },
        { kind: 'reply', id: 'pothole', title: '' },
      ],
      report_where: [
        { kind: 'reply', id: 'report', title: '' },
        { kind: 'reply', id: 'pothole', title: '' },
        { kind: 'media', mediaType: 'image', mediaId: 'M1' },
      ],
      report_date: [
        { kind: 'reply', id: 'report', title: '' },
        { kind: 'reply', id: 'pothole', title: '' },
        { kind: 'media', mediaType: 'image', mediaId: 'M1' },
        { kind: 'location', latitude: 4.6, longitude: -74.08 },
      ],
      status_ask: [{ kind: 'reply', id: 'status', title: '' }],
    };
    for (const step of path[node]) await c.send(step);
  }
  expect(c.waiting).toBe(node);
  return c;
}

describe('runTurn: a whole conversation', () => {
  it('in Spanish: greeting, menu by number, list by title without accent, photo, location, date, yes, case', async () => {
    const c = new Conversation(flow, fakeContext({ language: 'es' }));
    await c.send('hola');
    expect(c.texts[0]).toBe('Hola Ana, le atiende la Secretaría de Vías.');
    expect(c.texts[1]).toBe('¿En qué le podemos ayudar?\n\n1. 🚧 Reportar un bache\n2. 🔎 Consultar reporte\n3. 👤 Hablar con alguien');
    expect(optionIds(sends(c.last)[1])).toEqual(['report', 'status', 'agent']);
    expect(optionTitles(sends(c.last)[1])).toEqual(['🚧 Reportar un bache', '🔎 Consultar reporte', '👤 Hablar con alguien']);

    await c.send('1');
    const list = sends(c.last)[0];
    expect((list.content as { type: string }).type).toBe('list');
    expect(optionIds(list)).toEqual(['pothole', 'light', 'sign', 'flood', 'other']);
    expect(textOf(list)).toContain('4. Inundación');

    await c.send('inundacion');
    expect(c.waiting).toBe('report_photo');
    expect(c.texts).toEqual(['Envíe una foto del problema.']);

    await c.send('ahí va');
    expect(c.texts).toEqual(['Por favor, envíe una foto.']);
    expect(c.waiting).toBe('report_photo');

    await c.send({ kind: 'media', mediaType: 'image', mediaId: 'M1', mimeType: 'image/jpeg' });
    expect(c.ctx.fetched).toEqual(['M1']);
    expect(c.waiting).toBe('report_where');

    await c.send({ kind: 'location', latitude: 4.6, longitude: -74.08, name: 'Calle 26' });
    await c.send('31/12/2026');
    expect(c.waiting).toBe('report_confirm');
    expect(optionIds(sends(c.last)[0])).toEqual(['yes', 'no']);
    expect(optionTitles(sends(c.last)[0])).toEqual(['Sí', 'No']);

    await c.send('sí');
    expect(c.output('case')).toEqual({
      type: 'case',
      kind: 'road_problem',
      reference: 'RD-2026-000001',
      fields: {
        'report.photo': 'media/M1',
        'report.location': { latitude: 4.6, longitude: -74.08, name: 'Calle 26' },
        'report.since': '2026-12-31',
      },
    });
    expect(c.texts).toEqual(['Su reporte es RD-2026-000001. ¡Gracias!', 'Gracias por escribirnos.']);
    expect(c.last.ended).toBe(true);
    expect(c.last.session.waiting).toBeNull();
  });

  it('in Arabic: menu by Arabic-Indic digit, a status call and its answer with interpolated values', async () => {
    const c = new Conversation(flow, fakeContext({ language: 'ar' }));
    await c.send('مرحبا');
    expect(c.texts[0]).toBe('مرحبًا Ana، معك أمانة الطرق.');
    expect(optionTitles(sends(c.last)[1])).toEqual(['🚧 الإبلاغ عن حفرة', '🔎 متابعة بلاغ', '👤 التحدث مع موظف']);
    await c.send('٢');
    expect(c.waiting).toBe('status_ask');
    expect(c.texts).toEqual(['اكتب رقم البلاغ (RD-…)']);
    await c.send('RD-2026-000123');
    expect(c.ctx.calls).toEqual([{ integration: 'case_status', input: { reference: 'RD-2026-000123' } }]);
    expect(c.texts).toEqual(['بلاغك RD-2026-000123 حالته: open.', 'شكرًا لتواصلك معنا.']);
    expect(c.last.ended).toBe(true);
  });

  it('in Arabic: a report by Arabic title, list reply id, Arabic yes', async () => {
    const c = new Conversation(flow, fakeContext({ language: 'ar' }));
    await c.send({ kind: 'start' });
    await c.send('الابلاغ عن حفره');
    expect(c.waiting).toBe('report_kind');
    expect((sends(c.last)[0].content as { action: { button: string } }).action.button).toBe('عرض الأنواع');
    await c.send({ kind: 'reply', id: 'flood', title: 'فيضان' });
    await c.send('تخطي');
    expect(c.waiting).toBe('report_where');
    await c.send({ kind: 'location', latitude: 24.7, longitude: 46.7 });
    await c.send('٣١/١٢/٢٠٢٦');
    expect(c.waiting).toBe('report_confirm');
    await c.send('نعم');
    expect(c.output('case')?.fields).toMatchObject({ 'report.photo': null, 'report.since': '2026-12-31' });
    expect(c.texts[0]).toBe('رقم بلاغك RD-2026-000001. شكرًا!');
  });
});

describe('runTurn: menu answers', () => {
  it.each<[string, TurnInput | string, string]>([
    ['Western digit', '2', 'status_ask'],
    ['Arabic-Indic digit', '٢', 'status_ask'],
    ['Persian digit', '۲', 'status_ask'],
    ['digit with a dot', ' 2. ', 'status_ask'],
    ['reply id', { kind: 'reply', id: 'status', title: '🔎 Consultar reporte' }, 'status_ask'],
    ['reply of an older message, by title', { kind: 'reply', id: 'old-id', title: 'Consultar reporte' }, 'status_ask'],
    ['title', 'Consultar reporte', 'status_ask'],
    ['title in capitals', 'CONSULTAR REPORTE', 'status_ask'],
    ['title with a typo', 'consultar reprote', 'status_ask'],
    ['title with a typo and no accent', 'reportar un baché', 'report_kind'],
    ['emoji', '🔎', 'status_ask'],
    ['emoji with a variation selector', '🚧\uFE0F', 'report_kind'],
    ['start of a title', 'consultar', 'status_ask'],
    ['title in a sentence', 'quiero reportar un bache por favor', 'report_kind'],
    ['title in the other flow language', 'متابعة بلاغ', 'status_ask'],
    ['option id', 'status', 'status_ask'],
  ])('%s', async (_, answer, next) => {
    const c = await at('main');
    await c.send(answer);
    expect(c.waiting).toBe(next);
  });

  it.each<[string, TurnInput | string, string]>([
    ['number 5', '5', 'other'],
    ['Arabic-Indic 4', '٤', 'flood'],
    ['list reply id', { kind: 'reply', id: 'sign', title: 'Señalización' }, 'sign'],
    ['title without accents', 'senalizacion', 'sign'],
    ['title with a typo', 'alumbrdo', 'light'],
  ])('list of 5 options: %s', async (_, answer, chosen) => {
    const c = await at('report_kind');
    await c.send(answer);
    expect(c.waiting).toBe('report_photo');
    // The option chosen is not saved by a menu; the path proves it was understood.
    expect(chosen).toBeTruthy();
  });

  it('a word of one title, after the FAQ', async () => {
    const c = await at('main');
    await c.send('necesito consultar');
    expect(c.waiting).toBe('status_ask');
  });

  it('the FAQ before loose words ("reporte" is a word of "Consultar reporte")', async () => {
    const c = await at('main');
    await c.send('¿tiene costo el reporte?');
    expect(c.texts[0]).toBe('Reportar un problema es gratis.');
    expect(c.waiting).toBe('main');
  });

  it('an option with do: agent hands off to the default department', async () => {
    const c = await at('main');
    await c.send('3');
    expect(c.output('handoff')).toEqual({
      type: 'handoff',
      department: 'roads_desk',
      reason: 'asked_for_agent',
      priority: 0,
      language: 'es',
    });
    expect(c.texts).toEqual(['Gracias. Una persona de nuestro equipo le responderá por aquí lo antes posible.']);
    expect(c.last.ended).toBe(true);
  });

  it.each([
    ['a number out of range', '4'],
    ['words of two options', 'bache o reporte'],
    ['nonsense', 'xyzzy'],
    ['an emoji of no option', '🍕'],
  ])('%s re-prompts with the menu', async (_, answer) => {
    const c = await at('main');
    await c.send(answer);
    expect(c.waiting).toBe('main');
    expect(c.texts[0]).toBe('Disculpe, no entendí su respuesta. Elija una de las opciones o escriba su número.');
    expect(optionIds(sends(c.last)[1])).toEqual(['report', 'status', 'agent']);
    expect(c.last.session.fallbacks).toBe(1);
  });

  it('re-prompts in Arabic in an Arabic session', async () => {
    const c = await at('main', 'ar');
    await c.send('شيء آخر تمامًا');
    expect(c.texts[0]).toBe('عذرًا، لم أفهم ردك. يرجى اختيار أحد الخيارات أو كتابة رقمه.');
  });

  it('no_match retries, then no_match.then', async () => {
    const c = await at('report_kind');
    await c.send('nada');
    await c.send('tampoco');
    expect(c.waiting).toBe('report_kind');
    await c.send('otra vez no');
    expect(c.waiting).toBe('main');
  });

  it('max_fallbacks in a row hand off with reason repeated_fallback', async () => {
    const c = await at('main');
    await c.send('nada');
    await c.send('tampoco');
    expect(c.waiting).toBe('main');
    await c.send('sigo sin saber');
    expect(c.output('handoff')).toMatchObject({ department: 'roads_desk', reason: 'repeated_fallback' });
    expect(c.last.ended).toBe(true);
  });

  it('a good answer resets the fallbacks', async () => {
    const c = await at('main');
    await c.send('nada');
    await c.send('tampoco');
    await c.send('1');
    expect(c.last.session.fallbacks).toBe(0);
  });

  it.each([
    ['Latin words', 'reportar un bache '.repeat(228).slice(0, 4096)],
    ['Arabic letters', 'ب'.repeat(4096)],
    ['emoji', '🚧'.repeat(4096)],
    ['digits', '2'.repeat(4096)],
  ])('a 4,096-character text of %s is matched quickly and re-prompts', async (_, text) => {
    const c = await at('main');
    const started = Date.now();
    await c.send(text);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(c.waiting).toBe('main');
    expect(c.texts[0]).toMatch(/^Disculpe, no entendí/);
  });
});

describe('runTurn: FAQ', () => {
  it('answers a question at a menu and shows the menu again', async () => {
    const c = await at('main');
    await c.send('¿A qué hora abren?');
    expect(c.texts[0]).toBe('Atendemos de lunes a viernes, de 8:00 a 17:00.');
    expect(c.waiting).toBe('main');
    expect(optionIds(sends(c.last)[1])).toEqual(['report', 'status', 'agent']);
    expect(c.last.session.fallbacks).toBe(0);
  });

  it('answers the first message of a session, then shows the start', async () => {
    const c = new Conversation(flow, fakeContext({ language: 'es' }));
    await c.send('buenas, cuál es el horario de atencion?');
    expect(c.texts[0]).toBe('Atendemos de lunes a viernes, de 8:00 a 17:00.');
    expect(c.texts[1]).toContain('le atiende la Secretaría de Vías');
    expect(c.waiting).toBe('main');
  });

  it('answers in Arabic', async () => {
    const c = await at('main', 'ar');
    await c.send('ما هي ساعات العمل؟');
    expect(c.texts[0]).toBe('نعمل من الاثنين إلى الجمعة، من 8:00 إلى 17:00.');
  });

  it('a miss re-prompts', async () => {
    const c = await at('main');
    await c.send('me gusta el fútbol');
    expect(c.texts[0]).toMatch(/^Disculpe, no entendí/);
  });
});

describe('runTurn: questions', () => {
  it.each(['31/12/2026', '2026-12-31', '31-12-26', '31.12.2026', '31 de diciembre de 2026'])('a date written %s', async (text) => {
    const c = await at('report_date');
    await c.send(text);
    expect(c.last.session.vars).toMatchObject({ report: { since: '2026-12-31' } });
  });

  it.each(['31/02/2026', 'ayer no, antier', '2026'])('refuses the date %s with the built-in text', async (text) => {
    const c = await at('report_date');
    await c.send(text);
    expect(c.texts).toEqual(['Esa fecha no es válida. Escríbala así: 31/12/2026.']);
    expect(c.waiting).toBe('report_date');
  });

  it('a pattern that does not fit gets the flow’s error text', async () => {
    const c = await at('status_ask');
    await c.send('mi reporte de ayer');
    expect(c.texts).toEqual(['El número se ve así: RD-2026-000123']);
  });

  it('an answer that does not fit but asks an FAQ question gets the answer, then the question again', async () => {
    const c = await at('status_ask');
    await c.send('a qué hora abren?');
    expect(c.texts).toEqual(['Atendemos de lunes a viernes, de 8:00 a 17:00.', 'Escriba el número de reporte (RD-…)']);
    expect(c.waiting).toBe('status_ask');
  });

  it('retry.max then retry.then', async () => {
    const c = await at('report_where');
    await c.send('en la esquina');
    expect(c.texts).toEqual(['Por favor, comparta su ubicación: toque 📎 y luego «Ubicación».']);
    expect(c.waiting).toBe('report_where');
    await c.send('al lado del parque');
    expect(c.waiting).toBe('main');
  });

  it('yes/no: no follows the default branch; an unclear answer re-asks with the buttons', async () => {
    const c = await at('report_date');
    await c.send('hoy');
    expect(c.last.session.vars).toMatchObject({ report: { since: '2026-12-07' } });
    await c.send('quizás');
    expect(c.texts[0]).toBe('Por favor, responda «sí» o «no».');
    expect(optionIds(sends(c.last)[1])).toEqual(['yes', 'no']);
    await c.send({ kind: 'reply', id: 'no', title: 'No' });
    expect(c.waiting).toBe('main');
    expect(c.output('case')).toBeUndefined();
  });

  it('skip words save null and go on', async () => {
    const c = await at('report_photo');
    await c.send('No tengo');
    expect(c.waiting).toBe('report_where');
    expect(c.last.session.vars).toEqual({ report: { photo: null } });
  });

  it('a media download that fails asks again without counting a retry', async () => {
    const ctx = fakeContext({ language: 'es', fetchMedia: async () => ({ ok: false, error: 'expired' }) });
    const c = await at('report_photo', 'es', ctx);
    await c.send({ kind: 'media', mediaType: 'image', mediaId: 'M9' });
    expect(c.texts).toEqual(['No pudimos recibir su archivo. Por favor, envíelo de nuevo.']);
    expect(c.waiting).toBe('report_photo');
    expect(c.last.session.retries).toBe(0);
  });

  it('a media download that throws is a failed download too', async () => {
    const ctx = fakeContext({
      fetchMedia: async () => {
        throw new Error('socket hang up');
      },
    });
    const c = await at('report_photo', 'es', ctx);
    await c.send({ kind: 'media', mediaType: 'image', mediaId: 'M9' });
    expect(c.waiting).toBe('report_photo');
    expect(c.texts).toEqual(['No pudimos recibir su archivo. Por favor, envíelo de nuevo.']);
  });

  it('a timeout follows timeout.goto; the deadline is on the session', async () => {
    const c = await at('status_ask');
    expect(c.last.session.timeoutAt).toBe('2026-12-07T10:30:00.000Z');
    const early = await runTurn(flow, 1, c.session, { kind: 'timeout' }, fakeContext({ now: new Date('2026-12-07T10:29:00Z') }));
    expect(early.outputs).toEqual([]);
    c.ctx.now = new Date('2026-12-07T10:30:00Z');
    await c.send({ kind: 'timeout' });
    expect(c.texts).toEqual(['Gracias por escribirnos.']);
    expect(c.last.ended).toBe(true);
  });

  it('a timeout at a node without one says nothing and changes nothing', async () => {
    const c = await at('main');
    const before = c.session;
    c.ctx.now = new Date('2026-12-07T12:00:00Z');
    await c.send({ kind: 'timeout' });
    expect(c.last.outputs).toEqual([]);
    expect(c.last.session).toEqual(before);
  });

  it('a timeout that moves the flow keeps the idle deadline of the citizen’s last message', async () => {
    const c = await at('status_ask');
    const deadline = c.session!.expiresAt;
    c.ctx.now = new Date('2026-12-07T11:00:00Z');
    const r = await runTurn(
      {
        ...flow,
        nodes: {
          ...flow.nodes,
          status_ask: { ...flow.nodes.status_ask, timeout: { after: '30m', goto: 'main' } } as FlowDefinition['nodes'][string],
        },
      },
      1,
      c.session,
      { kind: 'timeout' },
      c.ctx,
    );
    expect(r.session.waiting).toBe('main');
    expect(r.session.expiresAt).toBe(deadline);
  });
});

describe('runTurn: unsupported input is never met with silence', () => {
  it.each<[string, TurnInput]>([
    ['a sticker', { kind: 'media', mediaType: 'sticker', mediaId: 'S1' }],
    ['a voice note', { kind: 'media', mediaType: 'audio', mediaId: 'A1' }],
    ['a reaction', { kind: 'unsupported', type: 'reaction' }],
    ['an unknown type', { kind: 'unsupported', type: 'unknown' }],
    ['a location', { kind: 'location', latitude: 1, longitude: 2 }],
  ])('%s at a menu', async (_, input) => {
    const c = await at('main');
    await c.send(input);
    expect(c.texts[0]).toBe('Lo siento, no puedo leer este tipo de mensaje. Escríbame un texto, por favor.');
    expect(optionIds(sends(c.last)[1])).toEqual(['report', 'status', 'agent']);
  });

  it('voice notes in a row reach a person after max_fallbacks', async () => {
    const c = await at('main');
    await c.send({ kind: 'media', mediaType: 'audio', mediaId: 'A1' });
    await c.send({ kind: 'media', mediaType: 'audio', mediaId: 'A2' });
    expect(c.waiting).toBe('main');
    await c.send({ kind: 'media', mediaType: 'audio', mediaId: 'A3' });
    expect(c.output('handoff')).toMatchObject({ reason: 'repeated_fallback', department: 'roads_desk' });
  });

  it('a voice note where a photo is expected, in Arabic', async () => {
    const c = await at('report_photo', 'ar');
    await c.send({ kind: 'media', mediaType: 'audio', mediaId: 'A1' });
    expect(c.texts).toEqual(['عذرًا، لا يمكنني قراءة هذا النوع من الرسائل. يرجى الكتابة لي نصًا.', 'أرسل صورة للمشكلة.']);
  });
});

describe('runTurn: calls', () => {
  it.each([
    ['answers ok: false', async () => ({ ok: false as const, error: 'HTTP 503' })],
    [
      'throws',
      async () => {
        throw new Error('boom');
      },
    ],
    ['answers a non-object', async () => ({ ok: true as const, data: null as unknown as Record<string, unknown> })],
  ])('a call that %s goes to on_error', async (_, call) => {
    const c = await at('status_ask', 'es', fakeContext({ call }));
    await c.send('RD-2026-000123');
    expect(c.output('handoff')).toMatchObject({ department: 'roads_desk', reason: 'flow' });
    expect(c.texts).toEqual(['No pudimos consultar su reporte. Le pasamos con una persona.']);
  });

  it('a branch on the call’s result, and a CTA URL button with the reference in the link', async () => {
    const c = await at('status_ask', 'es', fakeContext({ call: async () => ({ ok: true, data: { state: 'closed' } }) }));
    await c.send('RD-2026-000123');
    const cta = sends(c.last)[0];
    expect(cta).toEqual({
      kind: 'interactive',
      content: {
        type: 'cta_url',
        body: { text: 'Su reporte ya fue resuelto.' },
        action: { name: 'cta_url', parameters: { display_text: 'Ver detalles', url: 'https://vias.example.gov/r/RD-2026-000123' } },
      },
    });
  });
});

describe('runTurn: global keywords, template buttons, consent', () => {
  it('menu, back, restart', async () => {
    const c = await at('report_photo');
    await c.send('atrás');
    expect(c.waiting).toBe('report_kind');
    await c.send('Menú');
    expect(c.waiting).toBe('main');
    await c.send('1');
    await c.send('1');
    await c.send({ kind: 'media', mediaType: 'image', mediaId: 'M1' });
    expect(c.last.session.vars).not.toEqual({});
    await c.send('reiniciar');
    expect(c.last.session.vars).toEqual({});
    expect(c.texts[0]).toContain('le atiende');
  });

  it('agent keyword hands off', async () => {
    const c = await at('report_kind');
    await c.send('Agente');
    expect(c.output('handoff')).toMatchObject({ reason: 'asked_for_agent', department: 'roads_desk' });
  });

  it('a short sentence naming a keyword acts on it; a long one is left to the waiting node', async () => {
    const c = await at('report_kind');
    await c.send('Quiero hablar con un agente, por favor');
    expect(c.output('handoff')).toMatchObject({ reason: 'asked_for_agent', department: 'roads_desk' });
    const arabic = await at('report_kind', 'ar');
    await arabic.send('أريد التحدث مع موظف');
    expect(arabic.output('handoff')).toMatchObject({ reason: 'asked_for_agent' });
    const long = await at('report_kind');
    await long.send('ayer un agente de tránsito me dijo que reportara el hueco de la calle');
    expect(long.output('handoff')).toBeUndefined();
    // Part of a word is not the keyword.
    const partial = await at('report_kind');
    await partial.send('agentes');
    expect(partial.output('handoff')).toBeUndefined();
  });

  it('language keyword: a menu of the flow’s languages in their own names, then the same question in the new language', async () => {
    const c = await at('report_kind');
    await c.send('idioma');
    expect(optionTitles(sends(c.last)[0])).toEqual(['Español', 'العربية']);
    expect(c.texts[0]).toMatch(/^Elija su idioma:/);
    await c.send('2');
    expect(c.output('language')).toEqual({ type: 'language', language: 'ar' });
    expect(c.last.session).toMatchObject({ language: 'ar', languageChosen: true, waiting: 'report_kind' });
    expect(c.texts[0]).toContain('ما نوع المشكلة؟');
  });

  it('a tap on an earlier language menu switches language where the citizen is', async () => {
    const c = await at('report_kind');
    await c.send({ kind: 'reply', id: 'lang:ar', title: 'العربية' });
    expect(c.output('language')).toEqual({ type: 'language', language: 'ar' });
    expect(c.waiting).toBe('report_kind');
    expect(c.texts[0]).toContain('ما نوع المشكلة؟');
  });

  it('a tap on a button of an earlier menu takes that option, wherever the citizen is', async () => {
    const c = await at('status_ask');
    await c.send({ kind: 'reply', id: 'flood', title: 'Inundación' });
    expect(c.waiting).toBe('report_photo');
  });

  it('…also after the session ended', async () => {
    const r = await runTurn(flow, 1, null, { kind: 'reply', id: 'status', title: '🔎 Consultar reporte' }, fakeContext());
    expect(r.session.waiting).toBe('status_ask');
  });

  it('a stale tap whose title does not match any option is read as usual', async () => {
    const c = await at('status_ask');
    await c.send({ kind: 'reply', id: 'flood', title: 'Otra cosa' });
    expect(c.waiting).toBe('status_ask');
    expect(c.texts).toEqual(['El número se ve así: RD-2026-000123']);
  });

  it('nonsense at the language menu counts as a fallback', async () => {
    const c = await at('main');
    await c.send('idioma');
    await c.send('klingon');
    expect(c.texts[0]).toMatch(/^Disculpe, no entendí/);
    expect(c.last.session.fallbacks).toBe(1);
  });

  it('a chosen language carries into the next session', async () => {
    const c = await at('main');
    await c.send('idioma');
    await c.send('العربية');
    const ended: Session = { ...c.last.session, waiting: null };
    const next = await runTurn(flow, 1, ended, { kind: 'text', text: 'hola' }, fakeContext({ language: 'es' }));
    expect(next.session.language).toBe('ar');
    expect(textOf(sends(next)[0])).toContain('مرحبًا');
  });

  it.each<[string, TurnInput]>([
    ['payload', { kind: 'template_button', payload: 'REPORT_STATUS', text: 'Ver estado' }],
    ['label in Spanish', { kind: 'template_button', text: 'ver estado' }],
    ['label in Arabic', { kind: 'template_button', text: 'عرض الحالة' }],
  ])('a template button by %s enters the flow at its node', async (_, input) => {
    const c = new Conversation(flow, fakeContext());
    await c.send(input);
    expect(c.waiting).toBe('status_ask');
  });

  it('a template button with do: agent, in the middle of a session', async () => {
    const c = await at('report_photo');
    await c.send({ kind: 'template_button', payload: 'TALK_TO_AGENT', text: 'Hablar con alguien' });
    expect(c.output('handoff')).toMatchObject({ reason: 'template_button', department: 'roads_desk' });
  });

  it('an unknown template button is read as text', async () => {
    const c = new Conversation(flow, fakeContext());
    await c.send({ kind: 'template_button', payload: 'OLD', text: 'Algo viejo' });
    expect(c.waiting).toBe('main');
  });

  it.each([
    ['STOP', 'es'],
    ['baja', 'es'],
    ['Stop', 'ar'],
    ['إيقاف', 'ar'],
  ] as const)('%s opts out (%s session) and ends the session', async (word, language) => {
    const c = await at('report_photo', language);
    await c.send(word);
    expect(c.output('consent')).toEqual({ type: 'consent', state: 'opted_out', keyword: word });
    expect(c.last.ended).toBe(true);
    expect(c.texts[0]).toBe(
      language === 'es'
        ? 'Listo: no le enviaremos más mensajes. Si quiere volver a recibirlos, escriba ALTA.'
        : 'تم: لن نرسل إليك رسائل بعد الآن. لاستلامها مجددًا، أرسل «بدء».',
    );
  });

  it('ALTA opts in, confirms and starts the flow', async () => {
    const c = new Conversation(flow, fakeContext());
    await c.send('ALTA');
    expect(c.output('consent')).toMatchObject({ state: 'opted_in' });
    expect(c.texts[0]).toMatch(/^Listo: volverá a recibir/);
    expect(c.waiting).toBe('main');
  });
});

describe('runTurn: sessions', () => {
  it('does not change the session it is given', async () => {
    const c = await at('main');
    const before = structuredClone(c.session);
    await runTurn(flow, 1, c.session, { kind: 'text', text: '1' }, c.ctx);
    expect(c.session).toEqual(before);
  });

  it('an expired session starts anew', async () => {
    const c = await at('main');
    const later = fakeContext({ now: new Date('2026-12-08T10:00:00Z') });
    const r = await runTurn(flow, 1, c.session, { kind: 'text', text: '2' }, later);
    expect(textOf(sends(r)[0])).toContain('le atiende');
    expect(r.session.waiting).toBe('main');
  });

  it('keeps the idle deadline from expire_after', async () => {
    const c = await at('main');
    expect(c.last.session.expiresAt).toBe('2026-12-08T09:00:00.000Z');
  });

  it('a new session in a language the flow lacks uses the flow’s first language', async () => {
    const c = new Conversation(flow, fakeContext({ language: 'fr' }));
    await c.send('bonjour');
    expect(c.last.session.language).toBe('es');
  });
});

describe('runTurn: conditions, interpolation and broken flows', () => {
  const small: FlowDefinition = {
    flow: 'small',
    languages: ['en'],
    start: 'age',
    nodes: {
      age: { type: 'ask', expect: 'number', text: { en: 'Your age?' }, save: 'p.age', validate: { min: 0, max: 130 }, goto: 'vip' },
      vip: {
        type: 'message',
        when: { var: 'p.age', gt: 99 },
        else: 'route',
        text: { en: 'A centenarian, {{contact.name}}!' },
        goto: 'route',
      },
      route: {
        type: 'message',
        text: { en: 'Age {{p.age}}{{p.nothing}}.' },
        goto: [
          { if: { var: 'p.age', lt: 18 }, goto: 'minor' },
          {
            if: {
              all: [
                { var: 'p.age', gt: 17 },
                { var: 'p.age', lt: 65 },
              ],
            },
            goto: 'adult',
          },
          {
            if: {
              any: [
                { var: 'p.age', in: [65, 66] },
                { var: 'p.age', eq: 100 },
              ],
            },
            goto: 'young_senior',
          },
          { goto: 'senior' },
        ],
      },
      minor: { type: 'end', text: { en: 'minor' } },
      adult: { type: 'end', text: { en: 'adult' } },
      young_senior: { type: 'end', text: { en: 'young senior' } },
      senior: { type: 'end', text: { en: 'senior' } },
    },
  };

  it.each([
    ['12', ['Age 12.', 'minor']],
    ['40', ['Age 40.', 'adult']],
    ['65', ['Age 65.', 'young senior']],
    ['80,5', ['Age 80.5.', 'senior']],
    ['100', ['A centenarian, Ana!', 'Age 100.', 'young senior']],
  ])('age %s', async (age, texts) => {
    const c = new Conversation(small, fakeContext());
    await c.send({ kind: 'start' });
    await c.send(age);
    expect(c.texts).toEqual(texts);
  });

  it('a number out of range is refused', async () => {
    const c = new Conversation(small, fakeContext());
    await c.send({ kind: 'start' });
    await c.send('200');
    expect(c.texts).toEqual(['Please type a number only.']);
  });

  it('a loop of nodes that never wait ends the session politely, with the reason for the logs', async () => {
    const loop: FlowDefinition = {
      flow: 'loop',
      languages: ['es'],
      start: 'a',
      nodes: {
        a: { type: 'message', text: { es: 'a' }, goto: 'b' },
        b: { type: 'message', when: { var: 'x', exists: true }, else: 'a', text: { es: 'b' }, goto: 'a' },
      },
    };
    const r = await runTurn(loop, 1, null, { kind: 'start' }, fakeContext());
    expect(r.ended).toBe(true);
    expect(r.error).toMatch(/without waiting/);
    expect(textOf(sends(r).at(-1)!)).toBe('Lo siento, algo salió mal de nuestro lado. Por favor, inténtelo más tarde.');
  });
});

describe('runTurn: never silent, never throws', () => {
  const inputs: TurnInput[] = [
    { kind: 'text', text: '' },
    { kind: 'text', text: '   ' },
    { kind: 'text', text: '0' },
    { kind: 'text', text: '99' },
    { kind: 'text', text: '🤷' },
    { kind: 'text', text: '<script>alert(1)</script>' },
    { kind: 'text', text: '{{contact.name}}' },
    { kind: 'text', text: 'ب'.repeat(4096) },
    { kind: 'reply', id: 'nope', title: 'nope' },
    { kind: 'reply', id: 'lang:xx', title: 'xx' },
    { kind: 'template_button', text: '' },
    { kind: 'location', latitude: 0, longitude: 0 },
    { kind: 'media', mediaType: 'video', mediaId: 'V' },
    { kind: 'media', mediaType: 'sticker', mediaId: 'S' },
    { kind: 'media', mediaType: 'document', mediaId: 'D', filename: 'a.pdf' },
    { kind: 'unsupported', type: 'contacts' },
    { kind: 'start' },
  ];
  const waitingNodes = Object.entries(flow.nodes).filter(([, n]) => n.type === 'menu' || n.type === 'ask' || n.type === 'language');

  it.each(waitingNodes.map(([id]) => id))('at %s every kind of input gets an answer', async (id) => {
    for (const language of flow.languages) {
      const session: Session = {
        flow: flow.flow,
        version: 1,
        language,
        waiting: id,
        trail: [id],
        vars: {},
        retries: 0,
        fallbacks: 0,
        timeoutAt: null,
        languageChosen: false,
      };
      for (const input of inputs) {
        const r = await runTurn(flow, 1, session, input, fakeContext());
        expect(sends(r).length).toBeGreaterThan(0);
        expect(r.error).toBeUndefined();
      }
    }
  });

  it('an error from the case sequence (the service’s database) propagates, for the message to be retried', async () => {
    const c = await at('report_date', 'es', fakeContext({ nextCaseReference: async () => Promise.reject(new Error('connection reset')) }));
    await c.send('hoy');
    await expect(runTurn(flow, 1, c.session, { kind: 'text', text: 'sí' }, c.ctx)).rejects.toThrow('connection reset');
  });
});
