/*
 * The flow's FAQ: which entry a free text asks about, in any of the flow's languages.
 *
 * Whole-sentence fuzzy search scores a long question against a short one poorly (and a greeting
 * like "hola" close to "hora"), so the FAQ is matched word by word: each content word of the
 * citizen's text is looked up with Fuse (typo- and accent-tolerant) among the FAQ's words, and an
 * entry answers when enough of one of its questions' content words were found. The thresholds are
 * tuned by faq.spec.ts in es/en/ar/fr/pt.
 */
import Fuse from 'fuse.js';
import type { FaqEntry } from './flow.types';
import { FUZZY_MAX_CHARS, contentWords, editDistance } from './text';

/** Fuse score (0 exact … 1 anything) under which a word is a candidate for the same word. */
const WORD_THRESHOLD = 0.4;
/** Share of a question's content words the citizen must have used. */
const COVERAGE = 0.6;
/** Words the citizen's text may have (longer texts are cut: the FAQ is about short questions). */
const MAX_WORDS = 40;

interface Question {
  entry: number;
  words: string[];
}

/** An index over a flow's FAQ, built once per flow version and reused for every turn. */
export class FaqIndex {
  private readonly questions: Question[] = [];
  /** Entries whose questions use each word: a word of one entry only tells that entry apart. */
  private readonly entriesOf = new Map<string, Set<number>>();
  private readonly fuse: Fuse<string>;

  constructor(
    readonly entries: FaqEntry[],
    languages?: string[],
  ) {
    const vocabulary = new Set<string>();
    entries.forEach((e, entry) => {
      for (const [lang, list] of Object.entries(e.questions)) {
        if (languages && !languages.includes(lang)) continue;
        for (const q of list) {
          const words = [...new Set(contentWords(q))];
          if (!words.length) continue;
          this.questions.push({ entry, words });
          for (const w of words) {
            vocabulary.add(w);
            if (!this.entriesOf.has(w)) this.entriesOf.set(w, new Set());
            this.entriesOf.get(w)!.add(entry);
          }
        }
      }
    });
    this.fuse = new Fuse([...vocabulary], {
      includeScore: true,
      ignoreLocation: true,
      ignoreFieldNorm: true,
      ignoreDiacritics: true,
      threshold: WORD_THRESHOLD,
      minMatchCharLength: 3,
    });
  }

  /** The entry the text asks about, or undefined when none clearly does. */
  search(text: string): FaqEntry | undefined {
    return this.match(text).entry;
  }

  /** The entry the text asks about, or the entries that are equally close (then none answers). */
  match(text: string): { entry?: FaqEntry; tied: FaqEntry[] } {
    const none = { tied: [] };
    if (!this.questions.length) return none;
    const words = [...new Set(contentWords(text.slice(0, FUZZY_MAX_CHARS * 2)))].slice(0, MAX_WORDS);
    if (!words.length) return none;
    // Which FAQ words each of the citizen's words is (Fuse finds candidates; a bounded edit
    // distance or a shared stem of 5+ letters confirms them, so `cost` is not `lost`).
    const sameAs = new Map<string, Set<string>>();
    for (const w of words) {
      const same = new Set<string>();
      for (const hit of this.fuse.search(w, { limit: 8 })) {
        if (sameWord(w, hit.item)) same.add(hit.item);
      }
      sameAs.set(w, same);
    }
    let best: { entry: number; score: number } | undefined;
    let tied = new Set<number>();
    for (const q of this.questions) {
      const qWords = new Set(q.words);
      const said = q.words.filter((qw) => words.some((w) => sameAs.get(w)!.has(qw)));
      const recall = said.length / q.words.length;
      const precision = words.filter((w) => [...sameAs.get(w)!].some((qw) => qWords.has(qw))).length / words.length;
      // Most of the question was said, or everything said is half of it and belongs to this entry
      // only ("horario" for "horario de atención"; not "reporte" for "¿tiene costo el reporte?",
      // nor "visa" when several entries speak of visas).
      const distinctive = said.every((w) => this.entriesOf.get(w)!.size === 1);
      if (recall < COVERAGE && !(precision === 1 && recall >= 0.5 && distinctive)) continue;
      const score = recall + precision;
      if (!best || score > best.score + 1e-9) {
        best = { entry: q.entry, score };
        tied = new Set();
      } else if (Math.abs(score - best.score) <= 1e-9 && q.entry !== best.entry) tied.add(q.entry);
    }
    if (!best) return none;
    if (tied.size) return { tied: [best.entry, ...tied].map((i) => this.entries[i]) };
    return { entry: this.entries[best.entry], tied: [] };
  }
}

/** Typos tolerated between two words of these lengths: none in short words ("cost" is no "lost"). */
function sameWord(a: string, b: string): boolean {
  if (a === b) return true;
  const shorter = Math.min([...a].length, [...b].length);
  // One is the other with an ending (hour/hours, renovar/renovación): a stem of 5+ letters, or of
  // 4 with a short ending (`hora` is no `horario`).
  const longer = Math.max([...a].length, [...b].length);
  if ((shorter >= 5 || (shorter === 4 && longer - shorter <= 2)) && (a.startsWith(b) || b.startsWith(a))) return true;
  const budget = shorter <= 4 ? 0 : shorter <= 7 ? 1 : 2;
  return budget > 0 && editDistance(a, b, budget) <= budget;
}

const cache = new WeakMap<FaqEntry[], FaqIndex>();

/** The index of a flow's FAQ (cached per FAQ array, i.e. per loaded flow version). */
export function faqIndex(entries: FaqEntry[]): FaqIndex {
  let index = cache.get(entries);
  if (!index) cache.set(entries, (index = new FaqIndex(entries)));
  return index;
}
