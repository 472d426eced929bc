import type { ParameterFormat } from './types';

/** One `{{…}}` occurrence in a text. */
export interface Placeholder {
  /** What is between the braces, verbatim (`1`, `first_name`, ` 1 `). */
  raw: string;
  start: number;
  end: number;
  kind: 'positional' | 'named' | 'malformed';
}

const TOKEN = /\{\{([^{}]*)\}\}/g;
export const POSITIONAL_NAME = /^[1-9]\d*$/;
/** Meta: named parameters use lowercase letters and underscores only. */
export const NAMED_NAME = /^[a-z_]+$/;

/** Every `{{…}}` in order; `strayBraces` is true when `{{`/`}}` remain that are not a token. */
export function scanPlaceholders(text: string): { placeholders: Placeholder[]; strayBraces: boolean } {
  const placeholders: Placeholder[] = [];
  for (const match of text.matchAll(TOKEN)) {
    const raw = match[1];
    const kind = POSITIONAL_NAME.test(raw) ? 'positional' : NAMED_NAME.test(raw) ? 'named' : 'malformed';
    placeholders.push({ raw, start: match.index, end: match.index + match[0].length, kind });
  }
  const rest = text.replace(TOKEN, ' ');
  return { placeholders, strayBraces: /\{\{|\}\}/.test(rest) };
}

/** Text with every placeholder replaced by a space: the fixed wording a reviewer reads. */
export function fixedText(text: string): string {
  return text.replace(TOKEN, ' ');
}

const FILLER = /[\s\p{P}\p{S}]/u;

/** Meta treats a variable followed only by punctuation as trailing, and preceded only by it as leading. */
export function leadingOrTrailing(text: string, placeholders: Placeholder[]): { leading: boolean; trailing: boolean } {
  let first = 0;
  while (first < text.length && FILLER.test(text[first]) && !text.startsWith('{{', first)) first++;
  let last = text.length;
  while (last > 0 && FILLER.test(text[last - 1]) && !text.endsWith('}}', last)) last--;
  return {
    leading: placeholders.some((p) => p.kind !== 'malformed' && p.start === first),
    trailing: placeholders.some((p) => p.kind !== 'malformed' && p.end === last),
  };
}

/** Pairs of consecutive variables with nothing but spaces or punctuation between them. */
export function adjacentPairs(text: string, placeholders: Placeholder[]): [Placeholder, Placeholder][] {
  const pairs: [Placeholder, Placeholder][] = [];
  for (let i = 1; i < placeholders.length; i++) {
    const between = text.slice(placeholders[i - 1].end, placeholders[i].start);
    if (!/[\p{L}\p{N}]/u.test(between)) pairs.push([placeholders[i - 1], placeholders[i]]);
  }
  return pairs;
}

/** Words of fixed text (anything with a letter or digit between spaces). */
export function countWords(text: string): number {
  return fixedText(text)
    .split(/\s+/)
    .filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

export function placeholderLabel(p: Placeholder): string {
  return `{{${p.raw}}}`;
}

export function expectedKind(format: ParameterFormat): Placeholder['kind'] {
  return format === 'named' ? 'named' : 'positional';
}

/**
 * Names of the variables in order: positional sorted by number, named by first appearance.
 * Assumes the text was validated (no malformed placeholders).
 */
export function variableNames(text: string | undefined): string[] {
  if (!text) return [];
  const { placeholders } = scanPlaceholders(text);
  const names = [...new Set(placeholders.filter((p) => p.kind !== 'malformed').map((p) => p.raw))];
  if (names.every((n) => POSITIONAL_NAME.test(n))) names.sort((a, b) => Number(a) - Number(b));
  return names;
}

/** Replaces each variable with its value (missing values stay as `{{name}}`). */
export function substitute(text: string, values: (name: string) => string | undefined): string {
  return text.replace(TOKEN, (whole, raw: string) => values(raw) ?? whole);
}
