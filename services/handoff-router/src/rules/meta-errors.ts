/**
 * Meta's error codes on an agent's message, in the agent's words: what happened and what to do.
 * Unknown codes keep Meta's own title.
 */
interface Explained {
  en: string;
  es: string;
}

const BY_CODE: Record<number, Explained> = {
  131047: {
    en: 'Not delivered: more than 24 hours passed since the citizen last wrote. Send an approved template to reopen the conversation.',
    es: 'No entregado: pasaron más de 24 horas desde el último mensaje del ciudadano. Envíe una plantilla aprobada para reabrir la conversación.',
  },
  131026: {
    en: 'Not delivered: this number cannot receive WhatsApp messages (not on WhatsApp, an old app, or terms not accepted).',
    es: 'No entregado: este número no puede recibir mensajes de WhatsApp (no usa WhatsApp, app antigua o términos no aceptados).',
  },
  131049: {
    en: 'Not delivered: WhatsApp held this message back to protect the citizen from too many business messages. Try later or wait for them to write.',
    es: 'No entregado: WhatsApp retuvo el mensaje para no saturar al ciudadano con mensajes de empresas. Intente más tarde o espere a que escriba.',
  },
  131050: {
    en: 'Not delivered: the citizen stopped marketing messages from this business.',
    es: 'No entregado: el ciudadano desactivó los mensajes de marketing de esta entidad.',
  },
  131051: { en: 'Not sent: WhatsApp does not support this kind of message.', es: 'No enviado: WhatsApp no admite este tipo de mensaje.' },
  131052: {
    en: 'The citizen’s media could not be downloaded; ask them to send it again.',
    es: 'No se pudo descargar el archivo del ciudadano; pídale que lo envíe de nuevo.',
  },
  131053: {
    en: 'Not sent: the attachment could not be uploaded (type or size not accepted).',
    es: 'No enviado: no se pudo subir el adjunto (tipo o tamaño no admitido).',
  },
  131056: {
    en: 'Not sent yet: too many messages to this citizen in a short time. It is retried automatically.',
    es: 'Aún no enviado: demasiados mensajes a este ciudadano en poco tiempo. Se reintenta automáticamente.',
  },
  130472: {
    en: 'Not delivered: the citizen is part of a WhatsApp experiment that limits business messages.',
    es: 'No entregado: el ciudadano participa en un experimento de WhatsApp que limita los mensajes de empresas.',
  },
  132000: {
    en: 'Not sent: the template’s values do not match its variables.',
    es: 'No enviado: los valores no coinciden con las variables de la plantilla.',
  },
  132001: {
    en: 'Not sent: this template does not exist in the citizen’s language or is not approved.',
    es: 'No enviado: la plantilla no existe en el idioma del ciudadano o no está aprobada.',
  },
  132015: {
    en: 'Not sent: the template is paused by WhatsApp for low quality.',
    es: 'No enviado: WhatsApp pausó la plantilla por baja calidad.',
  },
  132016: { en: 'Not sent: the template was disabled by WhatsApp.', es: 'No enviado: WhatsApp desactivó la plantilla.' },
  368: {
    en: 'Not sent: the agency’s WhatsApp account is temporarily restricted. Operations have been alerted.',
    es: 'No enviado: la cuenta de WhatsApp de la entidad está restringida temporalmente. Operaciones fue alertado.',
  },
};

/** The platform's own failure reasons (no Meta code), from the gateway's result. */
const BY_REASON: Record<string, Explained> = {
  'window-closed': BY_CODE[131047],
  'window-closed-by-meta': BY_CODE[131047],
  'opted-out': {
    en: 'Not sent: the citizen opted out of messages from this agency.',
    es: 'No enviado: el ciudadano pidió no recibir mensajes de esta entidad.',
  },
  'template-not-approved': BY_CODE[132001],
  'template-params': BY_CODE[132000],
  'media-unavailable': {
    en: 'Not sent: the attachment could not be fetched. Upload it again.',
    es: 'No enviado: no se pudo obtener el adjunto. Súbalo de nuevo.',
  },
  undeliverable: BY_CODE[131026],
  'declined-by-meta': BY_CODE[131049],
  'account-blocked': BY_CODE[368],
  'retries-exhausted': {
    en: 'Not sent: WhatsApp did not answer after several tries. Try again in a few minutes.',
    es: 'No enviado: WhatsApp no respondió tras varios intentos. Intente de nuevo en unos minutos.',
  },
};

export function explainFailure(input: { code?: number; reason?: string; title?: string }, language = 'en'): string {
  const lang: keyof Explained = language.startsWith('es') ? 'es' : 'en';
  const known = (input.code !== undefined ? BY_CODE[input.code] : undefined) ?? (input.reason ? BY_REASON[input.reason] : undefined);
  if (known) return known[lang];
  const what = input.title ?? input.reason ?? 'unknown error';
  return lang === 'es'
    ? `No enviado: WhatsApp respondió "${what}"${input.code ? ` (código ${input.code})` : ''}.`
    : `Not sent: WhatsApp answered "${what}"${input.code ? ` (code ${input.code})` : ''}.`;
}
