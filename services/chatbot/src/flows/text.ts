/*
 * Text helpers shared by matching, the FAQ and validation: folding (case, accents, Arabic letter
 * variants, non-Western digits), numbers, dates, yes/no words, emoji and a bounded edit distance.
 * Everything here is pure and bounded: a citizen may send 4,096 characters.
 */
import { charCount } from '@wa/contracts';

export { charCount };

/** Longest text that fuzzy matching looks at: beyond it only exact matches count. */
export const FUZZY_MAX_CHARS = 200;

const EASTERN_DIGITS = /[\u0660-\u0669\u06F0-\u06F9]/g;

/** Arabic-Indic (`٢`) and Persian (`۲`) digits to Western ones; `٫` (Arabic decimal separator) to `.`. */
export function westernDigits(text: string): string {
  return text
    .replace(EASTERN_DIGITS, (d) => String((d.codePointAt(0)! - (d >= '\u06F0' ? 0x06f0 : 0x0660)) % 10))
    .replace(/\u066B/g, '.')
    .replace(/\u066C/g, ',');
}

/**
 * The form two texts are compared in: lower case, no accents or Arabic diacritics (NFKD drops the
 * hamza of أ/إ/آ and the harakat), ة→ه, ى→ي, no tatweel, Western digits, punctuation and symbols
 * as spaces, spaces collapsed.
 */
export function fold(text: string): string {
  return westernDigits(text)
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\u0629/g, '\u0647')
    .replace(/\u0649/g, '\u064A')
    .replace(/\u0640/g, '')
    .replace(/[\p{P}\p{S}\p{Z}\s]+/gu, ' ')
    .trim();
}

/** Emoji without variation selectors and skin tones, for comparing what a citizen sent. */
export function foldEmoji(text: string): string {
  return text.replace(/[\uFE0E\uFE0F\u{1F3FB}-\u{1F3FF}]/gu, '').trim();
}

/** Whether a text has letters or digits (`fold` keeps nothing of a text made of emoji alone). */
export function hasWords(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text);
}

/**
 * Levenshtein distance, or `max + 1` as soon as it must exceed `max` (a banded computation: the
 * cost is bounded by the shorter text times `2·max+1`).
 */
export function editDistance(a: string, b: string, max: number): number {
  const s = [...a];
  const t = [...b];
  if (Math.abs(s.length - t.length) > max) return max + 1;
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = new Array<number>(t.length + 1).fill(max + 1);
    cur[0] = i;
    let rowMin = cur[0];
    const from = Math.max(1, i - max);
    const to = Math.min(t.length, i + max);
    for (let j = from; j <= to; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (cur[j] < rowMin) rowMin = cur[j];
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return Math.min(prev[t.length], max + 1);
}

/** Typos tolerated for a folded word or title of this length. */
export function typoBudget(length: number): number {
  return length < 4 ? 0 : length < 8 ? 1 : 2;
}

/** An integer the citizen typed alone (`2`, `٢`, `۲`, ` 2. `, `2)`), or undefined. */
export function typedInteger(text: string): number | undefined {
  const m = /^\s*#?(\d{1,3})\s*[.)\-:]?\s*$/u.exec(westernDigits(text));
  return m ? Number(m[1]) : undefined;
}

/** A number in common spellings (`12`, `-3`, `3,5`, `3.5`, `١٢`), or undefined. */
export function parseNumber(text: string): number | undefined {
  const t = westernDigits(text).trim().replace(/\s+/g, '');
  if (!/^[-+]?\d{1,15}([.,]\d{1,10})?$/.test(t)) return undefined;
  const n = Number(t.replace(',', '.'));
  return Number.isFinite(n) ? n : undefined;
}

const MONTHS: Record<string, number> = {};
const monthNames: string[][] = [
  ['enero', 'january', 'janvier', 'janeiro', 'jan', 'ene', 'janv'],
  ['febrero', 'february', 'fevrier', 'fevereiro', 'feb', 'fev', 'fevr'],
  ['marzo', 'march', 'mars', 'marco', 'mar'],
  ['abril', 'april', 'avril', 'apr', 'abr', 'avr'],
  ['mayo', 'may', 'mai', 'maio'],
  ['junio', 'june', 'juin', 'junho', 'jun'],
  ['julio', 'july', 'juillet', 'julho', 'jul', 'juil'],
  ['agosto', 'august', 'aout', 'aug', 'ago'],
  ['septiembre', 'setiembre', 'september', 'septembre', 'setembro', 'sep', 'sept', 'set'],
  ['octubre', 'october', 'octobre', 'outubro', 'oct', 'out'],
  ['noviembre', 'november', 'novembre', 'novembro', 'nov'],
  ['diciembre', 'december', 'decembre', 'dezembro', 'dec', 'dic', 'dez'],
  ['يناير', 'كانون الثاني'],
  ['فبراير', 'شباط'],
  ['مارس', 'اذار'],
  ['ابريل', 'نيسان'],
  ['مايو', 'ايار'],
  ['يونيو', 'حزيران'],
  ['يوليو', 'تموز'],
  ['اغسطس', 'اب'],
  ['سبتمبر', 'ايلول'],
  ['اكتوبر', 'تشرين الاول'],
  ['نوفمبر', 'تشرين الثاني'],
  ['ديسمبر', 'كانون الاول'],
];
monthNames.forEach((names, i) => names.forEach((n) => (MONTHS[fold(n)] = (i % 12) + 1)));

const TODAY = new Set(['hoy', 'today', 'aujourd hui', 'hoje', 'اليوم'].map(fold));
const YESTERDAY = new Set(['ayer', 'yesterday', 'hier', 'ontem', 'امس', 'البارحه'].map(fold));

function isoDate(y: number, m: number, d: number): string | undefined {
  if (y < 100) y += 2000;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return undefined;
  return date.toISOString().slice(0, 10);
}

/**
 * A calendar date as ISO `YYYY-MM-DD`, from `31/12/2026`, `31-12-2026`, `31.12.26`, `2026-12-31`,
 * `12/31/2026` (only when the day cannot be the first number), `31 de diciembre de 2026`,
 * `December 31, 2026`, `31 ديسمبر 2026`, `hoy`/`today`/`اليوم`, `ayer`/`yesterday`/`أمس`.
 * Day-first wins when both readings are possible: the flows serve day-first countries.
 */
export function parseDate(text: string, now: Date): string | undefined {
  const t = westernDigits(text).trim().toLowerCase();
  const f = fold(t);
  if (TODAY.has(f)) return now.toISOString().slice(0, 10);
  if (YESTERDAY.has(f)) return new Date(now.getTime() - 86400000).toISOString().slice(0, 10);
  let m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[t\s].*)?$/.exec(t);
  if (m) return isoDate(+m[1], +m[2], +m[3]);
  m = /^(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{2}|\d{4})$/.exec(t);
  if (m) {
    const [a, b, y] = [+m[1], +m[2], +m[3]];
    return a > 12 || b <= 12 ? isoDate(y, b, a) : isoDate(y, a, b);
  }
  const words = f.split(' ').filter((w) => !['de', 'del', 'of', 'le', 'the'].includes(w));
  const nums = words.filter((w) => /^\d+$/.test(w)).map(Number);
  const months = words.map((w) => MONTHS[w]).filter((x) => x !== undefined);
  if (nums.length === 2 && months.length === 1 && words.length <= 4) {
    const [d, y] = nums[0] > 31 ? [nums[1], nums[0]] : [nums[0], nums[1]];
    return isoDate(y, months[0], d);
  }
  return undefined;
}

/** `90s`, `30m`, `2h`, `1d`, `1h30m` → milliseconds, or undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d+[smhd])+$/.test(t)) return undefined;
  const unit: Record<string, number> = { s: 1000, m: 60000, h: 3600000, d: 86400000 };
  let ms = 0;
  for (const [, n, u] of t.matchAll(/(\d+)([smhd])/g)) ms += Number(n) * unit[u];
  return ms;
}

/** Words that carry no meaning on their own, per language (folded). */
const STOPWORDS = new Set(
  [
    // es
    'el la los las un una unos unas de del al a en y o que como cual cuales cuando donde por para con sin mi mis me se su sus es son esta este esto hay lo le les yo tu usted ustedes quiero quisiera necesito puedo saber hola buenas buenos dias tardes noches gracias favor',
    // en
    'the a an of to in on at and or is are was be do does did i my me you your we our it this that what which when where how can could would want need know please hello hi thanks thank for with',
    // fr
    'le la les un une des de du au aux et ou est sont je j me mon ma mes vous votre nous il elle ce c cette quel quelle quels quelles quand ou comment pour avec sans puis peux voudrais veux savoir bonjour merci s il vous plait',
    // pt
    'o a os as um uma uns umas de do da dos das no na em e ou que como qual quais quando onde por para com sem eu meu minha me voce vc nos e sao esta este isso quero queria preciso posso saber ola oi obrigado obrigada favor bom dia',
    // ar (folded: no hamza, ة→ه)
    'في من الى على عن و او ما ماذا كيف متى اين هل هو هي انا انت نحن هذا هذه ذلك التي الذي لي لك اريد ممكن مرحبا السلام عليكم شكرا من فضلك يا',
  ]
    .join(' ')
    .split(' ')
    .map(fold),
);

/** The words of a text that carry meaning (folded; no stopwords, numbers or 1–2 letter words; no Arabic article). */
export function contentWords(text: string): string[] {
  return fold(text)
    .split(' ')
    .filter((w) => w.length >= 3 && !STOPWORDS.has(w) && !/^\d+$/.test(w))
    .map((w) => (w.startsWith('ال') && w.length >= 5 ? w.slice(2) : w));
}
