/*
 * What the engine says on its own (not written in a flow), per language, and the words it
 * understands without a flow: consent keywords, yes/no, language names. A language without its own
 * texts falls back to the flow's first language, then to English.
 *
 * Consent keywords are checked before a flow's own keywords, so they avoid words flows use for
 * navigation (`voltar` is "back" in Portuguese, hence INICIAR). Consent keywords (the whole message, any case, accents optional; checked in every language the
 * tenant serves, plus STOP/START everywhere):
 *
 * | language | opt out                  | opt in               |
 * |----------|--------------------------|----------------------|
 * | any      | STOP                     | START                |
 * | es       | BAJA                     | ALTA                 |
 * | en       | STOP, UNSUBSCRIBE        | START, SUBSCRIBE     |
 * | fr       | ARRÊT (ARRET)            | COMMENCER            |
 * | pt_BR    | PARAR, SAIR              | INICIAR              |
 * | ar       | إيقاف (ايقاف), توقف        | بدء, اشتراك           |
 */
import { fold, foldEmoji } from './text';

export type BuiltinKey =
  | 'not_understood'
  | 'send_photo'
  | 'send_document'
  | 'send_location'
  | 'invalid_date'
  | 'invalid_number'
  | 'invalid_yes_no'
  | 'invalid_text'
  | 'unsupported'
  | 'media_failed'
  | 'agent'
  | 'opted_out'
  | 'opted_in'
  | 'yes'
  | 'no'
  | 'options'
  | 'language_prompt'
  | 'language_button'
  | 'broken';

type Texts = Record<BuiltinKey, string>;

const TEXTS: Record<string, Texts> = {
  es: {
    not_understood: 'Disculpe, no entendí su respuesta. Elija una de las opciones o escriba su número.',
    send_photo: 'Por favor, envíe una foto.',
    send_document: 'Por favor, envíe el documento como archivo o foto.',
    send_location: 'Por favor, comparta su ubicación: toque 📎 y luego «Ubicación».',
    invalid_date: 'Esa fecha no es válida. Escríbala así: 31/12/2026.',
    invalid_number: 'Por favor, escriba solo un número.',
    invalid_yes_no: 'Por favor, responda «sí» o «no».',
    invalid_text: 'Esa respuesta no tiene el formato esperado. Inténtelo de nuevo, por favor.',
    unsupported: 'Lo siento, no puedo leer este tipo de mensaje. Escríbame un texto, por favor.',
    media_failed: 'No pudimos recibir su archivo. Por favor, envíelo de nuevo.',
    agent: 'Gracias. Una persona de nuestro equipo le responderá por aquí lo antes posible.',
    opted_out: 'Listo: no le enviaremos más mensajes. Si quiere volver a recibirlos, escriba ALTA.',
    opted_in: 'Listo: volverá a recibir nuestros mensajes. Si quiere dejar de recibirlos, escriba BAJA.',
    yes: 'Sí',
    no: 'No',
    options: 'Ver opciones',
    language_prompt: 'Elija su idioma:',
    language_button: 'Idiomas',
    broken: 'Lo siento, algo salió mal de nuestro lado. Por favor, inténtelo más tarde.',
  },
  en: {
    not_understood: "Sorry, I didn't understand your answer. Please choose one of the options or type its number.",
    send_photo: 'Please send a photo.',
    send_document: 'Please send the document as a file or a photo.',
    send_location: 'Please share your location: tap 📎, then "Location".',
    invalid_date: 'That is not a valid date. Please write it like this: 31/12/2026.',
    invalid_number: 'Please type a number only.',
    invalid_yes_no: 'Please answer "yes" or "no".',
    invalid_text: 'That answer is not in the expected format. Please try again.',
    unsupported: "Sorry, I can't read this kind of message. Please write to me in text.",
    media_failed: 'We could not receive your file. Please send it again.',
    agent: 'Thank you. A member of our team will answer you here as soon as possible.',
    opted_out: "Done: we won't send you any more messages. To receive them again, reply START.",
    opted_in: "Done: you'll receive our messages again. To stop them, reply STOP.",
    yes: 'Yes',
    no: 'No',
    options: 'See options',
    language_prompt: 'Choose your language:',
    language_button: 'Languages',
    broken: 'Sorry, something went wrong on our side. Please try again later.',
  },
  ar: {
    not_understood: 'عذرًا، لم أفهم ردك. يرجى اختيار أحد الخيارات أو كتابة رقمه.',
    send_photo: 'يرجى إرسال صورة.',
    send_document: 'يرجى إرسال المستند كملف أو صورة.',
    send_location: 'يرجى مشاركة موقعك: اضغط على 📎 ثم «الموقع».',
    invalid_date: 'هذا التاريخ غير صحيح. يرجى كتابته هكذا: 31/12/2026.',
    invalid_number: 'يرجى كتابة رقم فقط.',
    invalid_yes_no: 'يرجى الإجابة بـ «نعم» أو «لا».',
    invalid_text: 'هذا الرد ليس بالصيغة المطلوبة. يرجى المحاولة مرة أخرى.',
    unsupported: 'عذرًا، لا يمكنني قراءة هذا النوع من الرسائل. يرجى الكتابة لي نصًا.',
    media_failed: 'لم نتمكن من استلام ملفك. يرجى إرساله مرة أخرى.',
    agent: 'شكرًا لك. سيرد عليك أحد أعضاء فريقنا هنا في أقرب وقت ممكن.',
    opted_out: 'تم: لن نرسل إليك رسائل بعد الآن. لاستلامها مجددًا، أرسل «بدء».',
    opted_in: 'تم: ستصلك رسائلنا مجددًا. لإيقافها، أرسل «إيقاف».',
    yes: 'نعم',
    no: 'لا',
    options: 'عرض الخيارات',
    language_prompt: 'اختر لغتك:',
    language_button: 'اللغات',
    broken: 'عذرًا، حدث خطأ من جانبنا. يرجى المحاولة لاحقًا.',
  },
  fr: {
    not_understood: "Désolé, je n'ai pas compris votre réponse. Choisissez une des options ou tapez son numéro.",
    send_photo: 'Merci d’envoyer une photo.',
    send_document: 'Merci d’envoyer le document en fichier ou en photo.',
    send_location: 'Merci de partager votre position : touchez 📎 puis « Position ».',
    invalid_date: "Cette date n'est pas valide. Écrivez-la ainsi : 31/12/2026.",
    invalid_number: 'Merci de taper uniquement un nombre.',
    invalid_yes_no: 'Merci de répondre « oui » ou « non ».',
    invalid_text: "Cette réponse n'a pas le format attendu. Merci de réessayer.",
    unsupported: 'Désolé, je ne peux pas lire ce type de message. Écrivez-moi un texte, s’il vous plaît.',
    media_failed: "Nous n'avons pas pu recevoir votre fichier. Merci de l'envoyer à nouveau.",
    agent: 'Merci. Une personne de notre équipe vous répondra ici dès que possible.',
    opted_out: 'C’est fait : nous ne vous enverrons plus de messages. Pour les recevoir à nouveau, écrivez COMMENCER.',
    opted_in: 'C’est fait : vous recevrez à nouveau nos messages. Pour les arrêter, écrivez ARRÊT.',
    yes: 'Oui',
    no: 'Non',
    options: 'Voir les options',
    language_prompt: 'Choisissez votre langue :',
    language_button: 'Langues',
    broken: 'Désolé, un problème est survenu de notre côté. Merci de réessayer plus tard.',
  },
  pt_BR: {
    not_understood: 'Desculpe, não entendi sua resposta. Escolha uma das opções ou digite o número dela.',
    send_photo: 'Por favor, envie uma foto.',
    send_document: 'Por favor, envie o documento como arquivo ou foto.',
    send_location: 'Por favor, compartilhe sua localização: toque em 📎 e depois em "Localização".',
    invalid_date: 'Essa data não é válida. Escreva assim: 31/12/2026.',
    invalid_number: 'Por favor, digite apenas um número.',
    invalid_yes_no: 'Por favor, responda "sim" ou "não".',
    invalid_text: 'Essa resposta não está no formato esperado. Tente de novo, por favor.',
    unsupported: 'Desculpe, não consigo ler esse tipo de mensagem. Por favor, me escreva um texto.',
    media_failed: 'Não conseguimos receber seu arquivo. Por favor, envie de novo.',
    agent: 'Obrigado. Uma pessoa da nossa equipe vai responder você por aqui assim que possível.',
    opted_out: 'Pronto: não enviaremos mais mensagens. Para voltar a recebê-las, envie INICIAR.',
    opted_in: 'Pronto: você voltará a receber nossas mensagens. Para parar, envie PARAR.',
    yes: 'Sim',
    no: 'Não',
    options: 'Ver opções',
    language_prompt: 'Escolha seu idioma:',
    language_button: 'Idiomas',
    broken: 'Desculpe, algo deu errado do nosso lado. Por favor, tente mais tarde.',
  },
};

/** Languages with their own built-in texts. */
export const BUILTIN_LANGUAGES = Object.keys(TEXTS);

/** The built-in text in `language`, else in the first of `fallbacks` that has texts, else English. */
export function builtin(key: BuiltinKey, language: string, fallbacks: string[] = []): string {
  for (const lang of [language, language.split('_')[0], ...fallbacks, 'en']) {
    const texts = TEXTS[lang] ?? (lang === 'pt' ? TEXTS.pt_BR : undefined);
    if (texts) return texts[key];
  }
  return TEXTS.en[key];
}

/** Each language named in itself, for the language menu. */
const LANGUAGE_NAMES: Record<string, string> = {
  es: 'Español',
  en: 'English',
  ar: 'العربية',
  fr: 'Français',
  pt_BR: 'Português',
  pt: 'Português',
  de: 'Deutsch',
  it: 'Italiano',
  nl: 'Nederlands',
  ca: 'Català',
  ht: 'Kreyòl ayisyen',
  qu: 'Runasimi',
  gn: "Avañe'ẽ",
  wo: 'Wolof',
  sw: 'Kiswahili',
  tr: 'Türkçe',
  fa: 'فارسی',
  ur: 'اردو',
  hi: 'हिन्दी',
  zh_CN: '中文',
  ru: 'Русский',
  uk: 'Українська',
};

export function languageName(code: string): string {
  return LANGUAGE_NAMES[code] ?? LANGUAGE_NAMES[code.split('_')[0]] ?? code;
}

const OPT_OUT: Record<string, string[]> = {
  '*': ['STOP'],
  es: ['BAJA'],
  en: ['STOP', 'UNSUBSCRIBE'],
  fr: ['ARRÊT'],
  pt_BR: ['PARAR', 'SAIR'],
  ar: ['إيقاف', 'توقف'],
};
const OPT_IN: Record<string, string[]> = {
  '*': ['START'],
  es: ['ALTA'],
  en: ['START', 'SUBSCRIBE'],
  fr: ['COMMENCER'],
  pt_BR: ['INICIAR'],
  ar: ['بدء', 'اشتراك'],
};

function keywordsOf(table: Record<string, string[]>, languages: string[]): Set<string> {
  const words = [...table['*'], ...languages.flatMap((l) => table[l] ?? table[l.split('_')[0]] ?? [])];
  return new Set(words.map(fold));
}

/**
 * Whether a whole message is a consent keyword of one of `languages` (or STOP/START): the service
 * checks this on every inbound, whoever owns the conversation, before anything else.
 */
export function consentKeyword(text: string, languages: string[]): 'opt_out' | 'opt_in' | undefined {
  if (text.length > 40) return undefined;
  const f = fold(text);
  if (!f) return undefined;
  if (keywordsOf(OPT_OUT, languages).has(f)) return 'opt_out';
  if (keywordsOf(OPT_IN, languages).has(f)) return 'opt_in';
  return undefined;
}

const YES = [
  'si',
  'sí',
  's',
  'claro',
  'de acuerdo',
  'vale',
  'yes',
  'y',
  'yeah',
  'yep',
  'ok',
  'okay',
  'sure',
  'نعم',
  'ايوه',
  'أجل',
  'اي',
  'oui',
  'ouais',
  "d'accord",
  'sim',
  'isso',
  'pode',
];
const NO = ['no', 'n', 'nop', 'nope', 'لا', 'كلا', 'non', 'não', 'nao'];
const YES_SET = new Set(YES.map(fold));
const NO_SET = new Set(NO.map(fold));
const YES_EMOJI = new Set(['👍', '✅', '✔']);
const NO_EMOJI = new Set(['👎', '❌', '✖']);

/** A yes/no answer in any of the built-in languages (`sí`, `yes`, `نعم`, `oui`, `sim`, 👍 …). */
export function yesNo(text: string): boolean | undefined {
  if (text.length > 40) return undefined;
  const e = foldEmoji(text);
  if (YES_EMOJI.has(e)) return true;
  if (NO_EMOJI.has(e)) return false;
  const f = fold(text).replace(/ (por favor|please|s il vous plait|por favor|من فضلك)$/, '');
  if (YES_SET.has(f)) return true;
  if (NO_SET.has(f)) return false;
  return undefined;
}
