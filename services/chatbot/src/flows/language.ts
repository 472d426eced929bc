/*
 * A first guess at a citizen's language from the country code of their number, used on first
 * contact until they pick one. Only the tenant's languages are guessed; otherwise its default.
 */

/** Calling code → languages most citizens of that country read, best first. */
const BY_CALLING_CODE: Record<string, string[]> = {
  // Spanish-speaking Americas and Spain
  '52': ['es'],
  '53': ['es'],
  '54': ['es'],
  '56': ['es'],
  '57': ['es'],
  '58': ['es'],
  '51': ['es'],
  '34': ['es'],
  '591': ['es'],
  '593': ['es'],
  '595': ['es'],
  '598': ['es'],
  '502': ['es'],
  '503': ['es'],
  '504': ['es'],
  '505': ['es'],
  '506': ['es'],
  '507': ['es'],
  '240': ['es', 'fr'],
  // Arabic-speaking
  '20': ['ar'],
  '212': ['ar', 'fr'],
  '213': ['ar', 'fr'],
  '216': ['ar', 'fr'],
  '218': ['ar'],
  '249': ['ar'],
  '961': ['ar', 'fr'],
  '962': ['ar'],
  '963': ['ar'],
  '964': ['ar'],
  '965': ['ar'],
  '966': ['ar'],
  '967': ['ar'],
  '968': ['ar'],
  '970': ['ar'],
  '971': ['ar', 'en'],
  '973': ['ar'],
  '974': ['ar', 'en'],
  '222': ['ar', 'fr'],
  // French-speaking
  '33': ['fr'],
  '32': ['fr', 'nl'],
  '41': ['de', 'fr', 'it'],
  '221': ['fr'],
  '223': ['fr'],
  '224': ['fr'],
  '225': ['fr'],
  '226': ['fr'],
  '227': ['fr'],
  '228': ['fr'],
  '229': ['fr'],
  '235': ['fr', 'ar'],
  '237': ['fr', 'en'],
  '241': ['fr'],
  '242': ['fr'],
  '243': ['fr'],
  '250': ['fr', 'en'],
  '261': ['fr'],
  '509': ['fr', 'ht'],
  '352': ['fr', 'de'],
  // Portuguese-speaking
  '55': ['pt_BR'],
  '351': ['pt_BR'],
  '244': ['pt_BR'],
  '258': ['pt_BR'],
  '238': ['pt_BR'],
  // English-speaking
  '1': ['en', 'es'],
  // North American numbering plan areas where Spanish is spoken: Dominican Republic, Puerto Rico.
  '1809': ['es'],
  '1829': ['es'],
  '1849': ['es'],
  '1787': ['es', 'en'],
  '1939': ['es', 'en'],
  '44': ['en'],
  '353': ['en'],
  '61': ['en'],
  '64': ['en'],
  '27': ['en'],
  '234': ['en'],
  '254': ['en', 'sw'],
  '233': ['en'],
  '91': ['en', 'hi'],
  '63': ['en'],
};

function callingCode(digits: string): string | undefined {
  for (const len of [4, 3, 2, 1]) if (BY_CALLING_CODE[digits.slice(0, len)]) return digits.slice(0, len);
  return undefined;
}

/**
 * The language to greet a new citizen in: the first of their country's languages the tenant
 * serves (`pt` matches `pt_BR`), else the tenant's default. `citizenKey` is the canonical key
 * (digits, or `bsuid:…` when no number is known: no guess then).
 */
export function guessLanguage(citizenKey: string, tenantLanguages: string[], tenantDefault: string): string {
  const digits = citizenKey.replace(/^\+/, '');
  if (!/^\d{6,15}$/.test(digits)) return tenantDefault;
  const code = callingCode(digits);
  for (const wished of code ? BY_CALLING_CODE[code] : []) {
    if (tenantLanguages.includes(wished)) return wished;
    const base = wished.split('_')[0];
    const near = tenantLanguages.find((l) => l.split('_')[0] === base);
    if (near) return near;
  }
  return tenantDefault;
}
