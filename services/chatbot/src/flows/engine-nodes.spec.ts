import { runTurn } from './engine';
import type { FlowDefinition } from './flow.types';
import { parseFlow } from './parse';
import { Conversation, fakeContext, optionIds, optionTitles, sendProblems, sends } from './testing';
import { validateFlow } from './validate';

const yaml = `
flow: nodes
languages: [en, fr, ar, pt_BR]
start: pick_language
menu: menu
default_department: front_desk
global:
  - match: { en: [language], fr: [langue], ar: [اللغة], pt_BR: [idioma] }
    do: language
  - match: { en: [stop it], fr: [stop it], ar: [stop it], pt_BR: [stop it] }
    do: opt_out
nodes:
  pick_language:
    type: language
    text: { en: "Choose a language", fr: "Choisissez une langue", ar: "اختر لغة", pt_BR: "Escolha um idioma" }
    goto: menu
  menu:
    type: menu
    text: { en: "Pick", fr: "Choisissez", ar: "اختر", pt_BR: "Escolha" }
    button: { en: Options, fr: Options, ar: خيارات, pt_BR: Opções }
    footer: { en: "City Hall", fr: "Mairie", ar: "البلدية", pt_BR: "Prefeitura" }
    options:
      - { id: image, title: { en: Image, fr: Image, ar: صورة, pt_BR: Imagem }, goto: image }
      - { id: document, title: { en: Document, fr: Document, ar: مستند, pt_BR: Documento }, goto: document }
      - { id: place, title: { en: Place, fr: Lieu, ar: مكان, pt_BR: Local }, goto: place }
      - { id: video, title: { en: Video, fr: Vidéo, ar: فيديو, pt_BR: Vídeo }, goto: video }
      - { id: form, title: { en: Form, fr: Formulaire, ar: استمارة, pt_BR: Formulário }, goto: name }
      - { id: lang, title: { en: Language, fr: Langue, ar: اللغة, pt_BR: Idioma }, do: language }
      - { id: human, title: { en: A person, fr: Une personne, ar: موظف, pt_BR: Uma pessoa }, do: agent }
  image:
    type: message
    text: { en: "Our office", fr: "Notre bureau", ar: "مكتبنا", pt_BR: "Nosso escritório" }
    media: { kind: image, link: "https://city.example.gov/office.jpg" }
    goto: menu
  document:
    type: message
    text: { en: "The form", fr: "Le formulaire", ar: "الاستمارة", pt_BR: "O formulário" }
    media:
      kind: document
      link: { en: "https://city.example.gov/form-en.pdf", fr: "https://city.example.gov/form-fr.pdf", ar: "https://city.example.gov/form-ar.pdf", pt_BR: "https://city.example.gov/form-pt.pdf" }
      filename: { en: form.pdf, fr: formulaire.pdf, ar: استمارة.pdf, pt_BR: formulario.pdf }
    goto: menu
  video:
    type: message
    text: { en: "How to apply", fr: "Comment faire", ar: "كيفية التقديم", pt_BR: "Como solicitar" }
    media: { kind: video, link: "https://city.example.gov/how.mp4" }
    button: { label: { en: Apply online, fr: En ligne, ar: قدّم الآن, pt_BR: Solicitar }, url: "https://city.example.gov/apply" }
    goto: menu
  place:
    type: message
    text: { en: "We are here:", fr: "Nous sommes ici :", ar: "نحن هنا:", pt_BR: "Estamos aqui:" }
    location: { latitude: 14.6937, longitude: -17.4441, name: { en: City Hall, fr: Mairie, ar: البلدية, pt_BR: Prefeitura }, address: { en: 1 Main St, fr: 1 rue Principale, ar: 1 الشارع الرئيسي, pt_BR: Rua Principal 1 } }
    goto: menu
  name:
    type: ask
    expect: text
    text: { en: "Your name?", fr: "Votre nom ?", ar: "ما اسمك؟", pt_BR: "Seu nome?" }
    validate: { min_length: 2, max_length: 40 }
    save: form.name
    goto: kind
  kind:
    type: ask
    expect: choice
    text: { en: "For whom, {{form.name}}?", fr: "Pour qui, {{form.name}} ?", ar: "لمن يا {{form.name}}؟", pt_BR: "Para quem, {{form.name}}?" }
    choices:
      - { id: me, title: { en: Me, fr: Moi, ar: لي, pt_BR: Eu } }
      - { id: child, title: { en: My child, fr: Mon enfant, ar: طفلي, pt_BR: Meu filho } }
    save: form.for
    goto: count
  count:
    type: ask
    expect: number
    text: { en: "How many copies?", fr: "Combien de copies ?", ar: "كم نسخة؟", pt_BR: "Quantas cópias?" }
    validate: { min: 1, max: 5 }
    error: { en: "From 1 to 5.", fr: "De 1 à 5.", ar: "من 1 إلى 5.", pt_BR: "De 1 a 5." }
    retry: { max: 1, then: menu }
    save: form.copies
    goto: scan
  scan:
    type: ask
    expect: document
    text: { en: "Send your ID", fr: "Envoyez votre pièce d'identité", ar: "أرسل هويتك", pt_BR: "Envie seu documento" }
    save: form.id
    goto: done
  done:
    type: case
    kind: copies
    fields: [form.name, form.for, form.copies, form.id]
    reference_prefix: CP
    text: { en: "Request {{case.reference}} for {{form.copies}} copies.", fr: "Demande {{case.reference}} pour {{form.copies}} copies.", ar: "الطلب {{case.reference}} لعدد {{form.copies}} نسخ.", pt_BR: "Pedido {{case.reference}} de {{form.copies}} cópias." }
    goto: handoff
  handoff:
    type: handoff
    department: copies
    priority: 5
`;

function load(): FlowDefinition {
  const parsed = parseFlow(yaml);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
  return parsed.flow;
}
const flow = load();

async function started(language = 'en'): Promise<Conversation> {
  const c = new Conversation(flow, fakeContext({ language }));
  await c.send({ kind: 'start' });
  await c.send({ kind: 'reply', id: `lang:${language}`, title: '' });
  expect(c.waiting).toBe('menu');
  return c;
}

describe('runTurn: node kinds', () => {
  it('the fixture flow is valid', () => {
    expect(validateFlow(flow)).toEqual([]);
  });

  it('a language node lists the flow’s languages in their own names; choosing one answers in it', async () => {
    const c = new Conversation(flow, fakeContext({ language: 'en' }));
    await c.send('hi');
    expect(optionTitles(sends(c.last)[0])).toEqual(['English', 'Français', 'العربية', 'Português']);
    expect(optionIds(sends(c.last)[0])).toEqual(['lang:en', 'lang:fr', 'lang:ar', 'lang:pt_BR']);
    await c.send('francais');
    expect(c.output('language')).toEqual({ type: 'language', language: 'fr' });
    expect(c.texts[0]).toMatch(/^Choisissez\n\n1\. Image/);
    expect((sends(c.last)[0].content as { footer: { text: string } }).footer.text).toBe('Mairie');
  });

  it.each([
    ['by number', '4', 'pt_BR'],
    ['by code', 'ar', 'ar'],
    ['by name', 'العربية', 'ar'],
  ])('a language %s', async (_, text, language) => {
    const c = new Conversation(flow, fakeContext({ language: 'en' }));
    await c.send({ kind: 'start' });
    await c.send(text);
    expect(c.last.session.language).toBe(language);
  });

  it('the language keyword opens the flow’s language node; it goes to its goto', async () => {
    const c = await started();
    await c.send('5');
    expect(c.waiting).toBe('name');
    await c.send('langue');
    expect(c.waiting).toBe('pick_language');
    await c.send('Português');
    expect(c.waiting).toBe('menu');
    expect(c.texts[0]).toMatch(/^Escolha/);
  });

  it('an option with do: language does the same', async () => {
    const c = await started('ar');
    await c.send('6');
    expect(c.waiting).toBe('pick_language');
    expect(c.texts[0]).toMatch(/^اختر لغة/);
  });

  it('an image with its caption', async () => {
    const c = await started();
    await c.send('1');
    expect(sends(c.last)[0]).toEqual({ kind: 'image', content: { link: 'https://city.example.gov/office.jpg', caption: 'Our office' } });
  });

  it('a document per language with its filename', async () => {
    const c = await started('fr');
    await c.send('document');
    expect(sends(c.last)[0]).toEqual({
      kind: 'document',
      content: { link: 'https://city.example.gov/form-fr.pdf', caption: 'Le formulaire', filename: 'formulaire.pdf' },
    });
  });

  it('a video with a CTA URL button becomes a cta_url message with a video header', async () => {
    const c = await started();
    await c.send('4');
    expect(sends(c.last)[0]).toEqual({
      kind: 'interactive',
      content: {
        type: 'cta_url',
        header: { type: 'video', video: { link: 'https://city.example.gov/how.mp4' } },
        body: { text: 'How to apply' },
        action: { name: 'cta_url', parameters: { display_text: 'Apply online', url: 'https://city.example.gov/apply' } },
      },
    });
  });

  it('a text, then a location', async () => {
    const c = await started('pt_BR');
    await c.send('3');
    expect(sends(c.last).slice(0, 2)).toEqual([
      { kind: 'text', content: { body: 'Estamos aqui:' } },
      { kind: 'location', content: { latitude: 14.6937, longitude: -17.4441, name: 'Prefeitura', address: 'Rua Principal 1' } },
    ]);
  });

  it('a form: text length, choice with interpolation, number range with retry, a document, a case, then a handoff', async () => {
    const c = await started();
    await c.send('form');
    await c.send('A');
    expect(c.texts).toEqual(['That answer is not in the expected format. Please try again.']);
    await c.send('  Awa Ndiaye ');
    expect(c.texts[0]).toBe('For whom, Awa Ndiaye?\n\n1. Me\n2. My child');
    await c.send('my chld');
    await c.send('ten');
    expect(c.texts).toEqual(['From 1 to 5.']);
    await c.send('3');
    expect(c.waiting).toBe('scan');
    await c.send({ kind: 'media', mediaType: 'image', mediaId: 'ID1' });
    expect(c.output('case')).toEqual({
      type: 'case',
      kind: 'copies',
      reference: 'CP-2026-000001',
      fields: { 'form.name': 'Awa Ndiaye', 'form.for': 'child', 'form.copies': 3, 'form.id': 'media/ID1' },
    });
    expect(c.texts).toEqual([
      'Request CP-2026-000001 for 3 copies.',
      'Thank you. A member of our team will answer you here as soon as possible.',
    ]);
    expect(c.output('handoff')).toEqual({ type: 'handoff', department: 'copies', reason: 'flow', priority: 5, language: 'en' });
    expect(c.last.ended).toBe(true);
  });

  it('a number out of range twice goes to retry.then', async () => {
    const c = await started();
    await c.send('5');
    await c.send('Awa');
    await c.send('1');
    await c.send('9');
    expect(c.waiting).toBe('count');
    await c.send('0');
    expect(c.waiting).toBe('menu');
  });

  it('a document question asks for a document when sent text', async () => {
    const c = await started('fr');
    for (const step of ['5', 'Awa', '1', '2']) await c.send(step);
    await c.send('je ne l’ai pas');
    expect(c.texts).toEqual(['Merci d’envoyer le document en fichier ou en photo.']);
  });

  it('a global with do: opt_out', async () => {
    const c = await started();
    await c.send('Stop it!');
    expect(c.output('consent')).toMatchObject({ state: 'opted_out' });
    expect(c.last.ended).toBe(true);
  });

  it('a handoff option in a list', async () => {
    const c = await started('ar');
    await c.send({ kind: 'reply', id: 'human', title: 'موظف' });
    expect(c.output('handoff')).toMatchObject({ department: 'front_desk', reason: 'asked_for_agent', language: 'ar' });
    expect(c.texts).toEqual(['شكرًا لك. سيرد عليك أحد أعضاء فريقنا هنا في أقرب وقت ممكن.']);
  });

  it('clips run-time values that would break a limit instead of sending them', async () => {
    const c = await started();
    await c.send('5');
    await c.send('Awa');
    expect(c.waiting).toBe('kind');
    // A saved value far longer than any question allows (e.g. from an integration's answer).
    const session = { ...c.session!, vars: { form: { name: 'y'.repeat(2000) } } };
    const r = await runTurn(flow, 1, session, { kind: 'text', text: 'neither' }, c.ctx);
    const prompt = sends(r)[1];
    const body = (prompt.content as { body: { text: string } }).body.text;
    expect([...body].length).toBe(1024);
    expect(body).toMatch(/^For whom, y+…\n\n1\. Me\n2\. My child$/);
    expect(sendProblems(r)).toEqual([]);
  });
});
