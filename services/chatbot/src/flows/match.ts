/*
 * Which option a citizen meant: by reply id, by number (`2`, `٢`, `۲`), by emoji, by title in any
 * of the flow's languages (case-, accent- and typo-tolerant) or by the option's id typed out.
 * Ambiguity picks nothing: a wrong guess is worse than a re-prompt.
 */
import { FUZZY_MAX_CHARS, contentWords, editDistance, fold, foldEmoji, hasWords, typedInteger, typoBudget } from './text';

export interface Choice {
  id: string;
  /** Titles in every language the flow has (folding happens here). */
  titles: string[];
  emoji?: string;
}

export type ChoiceInput = { kind: 'reply'; id: string; title: string } | { kind: 'text'; text: string };

export function matchChoice(choices: Choice[], input: ChoiceInput): number | undefined {
  if (input.kind === 'reply') {
    const byId = choices.findIndex((c) => c.id === input.id);
    if (byId >= 0) return byId;
    return matchText(choices, input.title);
  }
  return matchText(choices, input.text);
}

function unique(indexes: number[]): number | undefined {
  const set = [...new Set(indexes)];
  return set.length === 1 ? set[0] : undefined;
}

function matchText(choices: Choice[], raw: string): number | undefined {
  const n = typedInteger(raw);
  if (n !== undefined) return n >= 1 && n <= choices.length ? n - 1 : undefined;
  const emoji = foldEmoji(raw);
  if (emoji && !hasWords(emoji)) {
    return unique(choices.flatMap((c, i) => (c.emoji && foldEmoji(c.emoji) === emoji ? [i] : [])));
  }
  if (raw.length > FUZZY_MAX_CHARS * 4) return undefined;
  const text = fold(raw);
  if (!text) return undefined;
  const folded = choices.map((c) => [...new Set(c.titles.map(fold))].filter(Boolean));
  // Titles, or an option's id typed out exactly (ids are not matched loosely: `reporte` is no `report`).
  const exact = unique(
    folded.flatMap((titles, i) => (titles.includes(text) || fold(choices[i].id.replace(/_/g, ' ')) === text ? [i] : [])),
  );
  if (exact !== undefined) return exact;
  if (text.length > FUZZY_MAX_CHARS) return undefined;
  // The whole title said within a sentence ("quiero reportar un bache").
  const padded = ` ${text} `;
  const within = unique(folded.flatMap((titles, i) => (titles.some((t) => t.length >= 3 && padded.includes(` ${t} `)) ? [i] : [])));
  // …unless the sentence also names another option by its first word ("renovar o pagar").
  const words = new Set(text.split(' '));
  const namesAnother = (i: number) =>
    folded.some((titles, j) => j !== i && titles.some((t) => t.split(' ')[0].length >= 4 && words.has(t.split(' ')[0])));
  if (within !== undefined && !namesAnother(within)) return within;
  if (within !== undefined) return undefined;
  // The start of a title ("report" for "Report a problem").
  if (text.length >= 4) {
    const prefix = unique(folded.flatMap((titles, i) => (titles.some((t) => t.startsWith(text)) ? [i] : [])));
    if (prefix !== undefined) return prefix;
  }
  // Typos: the closest title within the budget, if no other option is as close.
  let best = Infinity;
  let bestAt: number[] = [];
  folded.forEach((titles, i) => {
    for (const t of titles) {
      const budget = typoBudget(Math.min([...t].length, [...text].length));
      const d = editDistance(text, t, budget);
      if (d > budget) continue;
      if (d < best) {
        best = d;
        bestAt = [i];
      } else if (d === best) bestAt.push(i);
    }
  });
  return unique(bestAt);
}

/**
 * The looser match, tried after the FAQ: the one option whose title shares the most meaningful
 * words (4+ letters) with the text ("quiero pagar" → "Pagar en línea"); none on a tie.
 */
export function matchByWords(choices: Choice[], raw: string): number | undefined {
  if (raw.length > FUZZY_MAX_CHARS) return undefined;
  const words = [...new Set(contentWords(raw))].filter((w) => [...w].length >= 4);
  if (!words.length) return undefined;
  const scores = choices.map((c) => {
    const titleWords = new Set(c.titles.flatMap(contentWords));
    return words.filter((w) =>
      [...titleWords].some((t) => t === w || (Math.min([...t].length, [...w].length) >= 6 && editDistance(t, w, 1) <= 1)),
    ).length;
  });
  const max = Math.max(...scores);
  if (max === 0) return undefined;
  const best = scores.flatMap((s, i) => (s === max ? [i] : []));
  return best.length === 1 ? best[0] : undefined;
}
