import { FaqIndex } from './faq';
import type { FaqEntry } from './flow.types';

const entries: FaqEntry[] = [
  {
    id: 'hours',
    questions: {
      es: ['horario de atención', 'a qué hora abren', 'abren los sábados'],
      en: ['opening hours', 'what time do you open', 'are you open on saturday'],
      ar: ['ما هي ساعات العمل', 'متى تفتحون', 'هل تعملون يوم السبت'],
      fr: ["horaires d'ouverture", 'à quelle heure ouvrez-vous', 'ouvert le samedi'],
      pt_BR: ['horário de atendimento', 'que horas abre', 'abre no sábado'],
    },
    answer: { es: 'hours' },
  },
  {
    id: 'fees',
    questions: {
      es: ['cuánto cuesta', 'tarifas', 'precio de la licencia'],
      en: ['how much does it cost', 'fees', 'licence price'],
      ar: ['كم التكلفة', 'الرسوم', 'سعر الرخصة'],
      fr: ['combien ça coûte', 'tarifs', 'prix du permis'],
      pt_BR: ['quanto custa', 'taxas', 'preço da habilitação'],
    },
    answer: { es: 'fees' },
  },
  {
    id: 'documents',
    questions: {
      es: ['qué documentos necesito', 'requisitos', 'papeles para renovar'],
      en: ['what documents do I need', 'requirements', 'papers to renew'],
      ar: ['ما المستندات المطلوبة', 'المتطلبات', 'أوراق التجديد'],
      fr: ['quels documents faut-il', 'pièces à fournir', 'papiers pour renouveler'],
      pt_BR: ['quais documentos preciso', 'requisitos', 'documentos para renovar'],
    },
    answer: { es: 'documents' },
  },
  {
    id: 'lost',
    questions: {
      es: ['perdí mi licencia', 'me robaron la licencia'],
      en: ['I lost my licence', 'my licence was stolen'],
      ar: ['فقدت رخصتي', 'سرقت رخصتي'],
      fr: ["j'ai perdu mon permis", 'on m’a volé mon permis'],
      pt_BR: ['perdi minha habilitação', 'roubaram minha habilitação'],
    },
    answer: { es: 'lost' },
  },
];

const index = new FaqIndex(entries);

describe('FAQ matching', () => {
  it.each<[string, string, string]>([
    // Spanish: accents, case, typos, longer sentences
    ['es', '¿Cuál es el horario de atención?', 'hours'],
    ['es', 'horario de atencion', 'hours'],
    ['es', 'HORARIO', 'hours'],
    ['es', 'orario de atension', 'hours'],
    ['es', 'a que hora abren ustedes?', 'hours'],
    ['es', 'abren el sabado?', 'hours'],
    ['es', 'cuanto cuesta la renovación', 'fees'],
    ['es', 'cuáles son las tarifas', 'fees'],
    ['es', 'qué requisitos piden', 'documents'],
    ['es', 'perdi mi licencia ayer', 'lost'],
    // English
    ['en', 'What are your opening hours?', 'hours'],
    ['en', 'opening hour', 'hours'],
    ['en', 'are you open on saturdays', 'hours'],
    ['en', 'how much does the licence cost', 'fees'],
    ['en', 'what documents do i need to bring', 'documents'],
    ['en', 'I lost my license', 'lost'],
    // Arabic: with and without hamza, ta marbuta
    ['ar', 'ما ساعات العمل؟', 'hours'],
    ['ar', 'ماهي ساعات العمل', 'hours'],
    ['ar', 'كم تكلفه التجديد', 'fees'],
    ['ar', 'ما هي المستندات المطلوبة للتجديد', 'documents'],
    ['ar', 'لقد فقدت رخصتي', 'lost'],
    // French
    ['fr', "Quels sont vos horaires d'ouverture ?", 'hours'],
    ['fr', 'vous etes ouvert le samedi ?', 'hours'],
    ['fr', 'combien ca coute', 'fees'],
    ['fr', "j'ai perdu mon permis de conduire", 'lost'],
    // Portuguese
    ['pt', 'qual o horário de atendimento?', 'hours'],
    ['pt', 'quanto custa a renovação', 'fees'],
    ['pt', 'quais documentos eu preciso', 'documents'],
    ['pt', 'perdi a minha habilitacao', 'lost'],
  ])('%s: "%s" → %s', (_, text, id) => {
    expect(index.search(text)?.id).toBe(id);
  });

  it.each<[string, string]>([
    ['es', 'hola'],
    ['es', 'buenos días'],
    ['es', 'gracias'],
    ['es', 'quiero hablar con alguien'],
    ['es', 'me gusta el fútbol'],
    ['es', 'el'],
    ['es', 'sí'],
    ['en', 'hello'],
    ['en', 'thanks a lot'],
    ['en', 'the weather is nice'],
    ['ar', 'مرحبا'],
    ['ar', 'شكرا جزيلا'],
    ['fr', 'bonjour'],
    ['fr', 'merci beaucoup'],
    ['pt', 'oi, tudo bem?'],
    ['pt', 'obrigado'],
    ['any', 'asdf qwer zxcv'],
    ['any', '12345'],
    ['any', '👍'],
    ['any', ''],
  ])('%s: "%s" answers nothing', (_, text) => {
    expect(index.search(text)).toBeUndefined();
  });

  it('caps the work on a 4,096-character text', () => {
    const started = Date.now();
    expect(index.search('horario '.repeat(512))?.id).toBe('hours');
    index.search('x'.repeat(4096));
    index.search('كلمة '.repeat(820));
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('an empty FAQ answers nothing', () => {
    expect(new FaqIndex([]).search('horario')).toBeUndefined();
  });
});
