/**
 * The language codes Meta accepts for message templates (developers.facebook.com … /templates/supported-languages).
 * Exact strings: `ll` or `ll_CC` with an underscore, case-sensitive. Meta does not accept bare `pt`
 * (only pt_BR / pt_PT), nor `en-US`. Meta extends this list now and then: add codes here, nowhere else.
 */
export const META_TEMPLATE_LANGUAGES: ReadonlySet<string> = new Set([
  'af', 'sq', 'ar', 'ar_EG', 'ar_AE', 'ar_LB', 'ar_MA', 'ar_QA', 'az', 'be_BY', 'bn', 'bn_IN', 'bg', 'ca',
  'zh_CN', 'zh_HK', 'zh_TW', 'hr', 'cs', 'da', 'prs_AF', 'nl', 'nl_BE',
  'en', 'en_GB', 'en_US', 'en_AE', 'en_AU', 'en_CA', 'en_GH', 'en_IE', 'en_IN', 'en_JM', 'en_MY', 'en_NZ',
  'en_QA', 'en_SG', 'en_UG', 'en_ZA', 'et', 'fil', 'fi', 'fr', 'fr_BE', 'fr_CA', 'fr_CH', 'fr_CI', 'fr_MA',
  'ka', 'de', 'de_AT', 'de_CH', 'el', 'gu', 'ha', 'he', 'hi', 'hu', 'id', 'ga', 'it', 'ja', 'kn', 'kk',
  'rw_RW', 'ko', 'ky_KG', 'lo', 'lv', 'lt', 'mk', 'ms', 'ml', 'mr', 'nb', 'ps_AF', 'fa', 'pl', 'pt_BR',
  'pt_PT', 'pa', 'ro', 'ru', 'sr', 'si_LK', 'sk', 'sl', 'es', 'es_AR', 'es_CL', 'es_CO', 'es_CR', 'es_DO',
  'es_EC', 'es_HN', 'es_MX', 'es_PA', 'es_PE', 'es_ES', 'es_UY', 'sw', 'sv', 'ta', 'te', 'th', 'tr', 'uk',
  'ur', 'uz', 'vi', 'zu',
]); // prettier-ignore

/** `ll` or `ll_CC` (Dari is `prs_AF`, hence up to three letters). */
export const LANGUAGE_CODE_FORMAT = /^[a-z]{2,3}(_[A-Z]{2})?$/;

/**
 * Checks a language code the way Meta will; returns null when fine or the reason, with the likely
 * intended code when the mistake is only the format (`en-US` → `en_US`).
 */
export function languageProblem(code: unknown): string | null {
  if (typeof code !== 'string' || code.length === 0) return 'language is required (e.g. "en", "pt_BR")';
  if (!LANGUAGE_CODE_FORMAT.test(code)) {
    const [lang, region] = code.split(/[-_]/);
    const guess = region ? `${lang.toLowerCase()}_${region.toUpperCase()}` : lang.toLowerCase();
    const hint = META_TEMPLATE_LANGUAGES.has(guess) ? `; did you mean "${guess}"?` : '';
    return `language "${code}" is not in Meta's format: "ll" or "ll_CC" with an underscore${hint}`;
  }
  if (!META_TEMPLATE_LANGUAGES.has(code)) {
    const base = code.split('_')[0];
    const siblings = [...META_TEMPLATE_LANGUAGES].filter((c) => c === base || c.startsWith(`${base}_`));
    const hint = siblings.length ? `; supported for "${base}": ${siblings.join(', ')}` : '';
    return `language "${code}" is not a template language Meta supports${hint}`;
  }
  return null;
}

/** Webhooks may say `en-US`; the template API and our keys say `en_US`. */
export function normalizeLanguageCode(code: string): string {
  const [lang, region] = code.trim().split(/[-_]/);
  return region ? `${lang.toLowerCase()}_${region.toUpperCase()}` : lang.toLowerCase();
}
