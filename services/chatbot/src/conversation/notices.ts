import { builtin, type BuiltinKey } from '../flows/builtins';

/** What the service says on its own (outside a flow), in the citizen's language. */
export type NoticeKey = BuiltinKey | 'resumed';

const RESUMED: Record<string, string> = {
  es: 'La conversación con nuestro equipo terminó. Vuelve a hablar con el asistente automático: escriba «menú» para ver las opciones.',
  en: 'Your conversation with our team has ended. You are back with the automated assistant: type "menu" to see the options.',
  ar: 'انتهت محادثتك مع فريقنا. أنت الآن مع المساعد الآلي: اكتب «القائمة» لعرض الخيارات.',
  fr: 'Votre conversation avec notre équipe est terminée. Vous êtes de nouveau avec l’assistant automatique : écrivez « menu » pour voir les options.',
  pt_BR: 'Sua conversa com nossa equipe terminou. Você voltou ao assistente automático: escreva "menu" para ver as opções.',
};

export function notice(key: NoticeKey, language: string, fallbacks: string[] = []): string {
  if (key !== 'resumed') return builtin(key, language, fallbacks);
  for (const lang of [language, language.split('_')[0], ...fallbacks, 'en']) {
    const text = RESUMED[lang] ?? (lang === 'pt' ? RESUMED.pt_BR : undefined);
    if (text) return text;
  }
  return RESUMED.en;
}
