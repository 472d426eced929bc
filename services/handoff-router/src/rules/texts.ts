/**
 * What the router itself says to citizens, in their language (the tenant's languages are es, en,
 * ar, fr, pt_BR in the samples). Anything else falls back to the base language, then English.
 */
export type CitizenText = 'queued' | 'position' | 'assigned' | 'survey' | 'survey_thanks';

const TEXTS: Record<string, Record<CitizenText, string>> = {
  es: {
    queued: 'Un agente le responderá por este chat. Su lugar en la fila: {position}.',
    position: 'Seguimos atendiendo en orden. Su lugar en la fila ahora: {position}.',
    assigned: 'Le atiende {agent}.',
    survey: '¿Cómo calificaría la atención recibida? Responda con un número del 1 (mala) al 5 (excelente).',
    survey_thanks: '¡Gracias por su respuesta!',
  },
  en: {
    queued: 'An agent will answer you in this chat. Your place in the queue: {position}.',
    position: 'We are answering in order. Your place in the queue is now {position}.',
    assigned: 'You are now talking to {agent}.',
    survey: 'How would you rate the help you received? Reply with a number from 1 (poor) to 5 (excellent).',
    survey_thanks: 'Thank you for your answer!',
  },
  ar: {
    queued: 'سيرد عليك أحد الموظفين في هذه المحادثة. دورك في قائمة الانتظار: {position}.',
    position: 'نرد على الجميع بالترتيب. دورك في قائمة الانتظار الآن: {position}.',
    assigned: 'يتحدث معك الآن {agent}.',
    survey: 'كيف تقيّم المساعدة التي تلقيتها؟ أرسل رقماً من 1 (ضعيفة) إلى 5 (ممتازة).',
    survey_thanks: 'شكراً على إجابتك!',
  },
  fr: {
    queued: 'Un agent va vous répondre dans cette conversation. Votre place dans la file : {position}.',
    position: 'Nous répondons dans l’ordre. Votre place dans la file est maintenant {position}.',
    assigned: 'Vous parlez maintenant avec {agent}.',
    survey: 'Comment évaluez-vous l’aide reçue ? Répondez par un chiffre de 1 (mauvaise) à 5 (excellente).',
    survey_thanks: 'Merci pour votre réponse !',
  },
  pt_BR: {
    queued: 'Um atendente vai responder você neste chat. Sua posição na fila: {position}.',
    position: 'Estamos atendendo por ordem. Sua posição na fila agora: {position}.',
    assigned: 'Você está falando com {agent}.',
    survey: 'Como você avalia o atendimento recebido? Responda com um número de 1 (ruim) a 5 (excelente).',
    survey_thanks: 'Obrigado pela sua resposta!',
  },
};

export function languageOf(language: string, table: Record<string, unknown> = TEXTS): string {
  if (table[language]) return language;
  const base = language.split('_')[0];
  const match = Object.keys(table).find((k) => k === base || k.split('_')[0] === base);
  return match ?? 'en';
}

export function citizenText(key: CitizenText, language: string, values: Record<string, string | number> = {}): string {
  const text = TEXTS[languageOf(language)][key];
  return text.replace(/\{(\w+)\}/g, (_m, name: string) => String(values[name] ?? ''));
}

/** The rating 1–5 in a survey answer ("5", "٥", "4 estrellas"), or undefined when it is not one. */
export function parseRating(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const folded = text
    .trim()
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/[\u06f0-\u06f9]/g, (d) => String(d.charCodeAt(0) - 0x06f0));
  const match = /^\D{0,3}([1-5])(?!\d)/.exec(folded);
  return match && folded.length <= 40 ? Number(match[1]) : undefined;
}
