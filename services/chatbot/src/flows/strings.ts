/*
 * Every translatable text of a flow, in document order, under a stable key (`node.field[.option]`):
 * validation checks each one in each language, and translators get one flat file per language.
 *
 * | key                               | what                                        |
 * |-----------------------------------|---------------------------------------------|
 * | `<node>.text`                     | body, caption, question, confirmation        |
 * | `<node>.header` / `.footer`       | a menu's header and footer                  |
 * | `<node>.button`                   | a menu's list button / a message's CTA label |
 * | `<node>.option.<id>`              | a menu option's title                       |
 * | `<node>.description.<id>`         | a menu option's description                 |
 * | `<node>.choice.<id>`              | a choice question's option                  |
 * | `<node>.error` / `.no_match`      | re-prompt texts                             |
 * | `<node>.skip`                     | words that skip a question (a list)         |
 * | `<node>.media` / `.filename`      | a per-language media link / document name   |
 * | `<node>.location_name` / `_address` | a sent location's labels                  |
 * | `faq.<id>.questions` / `.answer`  | FAQ (questions are a list)                  |
 * | `global.<n>.match`                | global keywords (a list; n from 1)          |
 * | `template_buttons.<n>.labels`     | template button labels (a list; n from 1)   |
 */
import { stringify, parse } from 'yaml';
import type { FlowDefinition, Localized, LocalizedList } from './flow.types';

export interface TextEntry {
  key: string;
  /** Where in the document (`nodes.main.options[1].title`). */
  path: string;
  node?: string;
  /** The texts by language (a single text, or a list of words). */
  texts: Localized | LocalizedList;
  list: boolean;
}

/** Every translatable text of the flow, in document order. */
export function collectTexts(flow: FlowDefinition): TextEntry[] {
  const out: TextEntry[] = [];
  const one = (key: string, path: string, texts: Localized | undefined, node?: string) => {
    if (texts) out.push({ key, path, node, texts, list: false });
  };
  const many = (key: string, path: string, texts: LocalizedList | undefined, node?: string) => {
    if (texts) out.push({ key, path, node, texts, list: true });
  };
  (flow.global ?? []).forEach((g, i) => many(`global.${i + 1}.match`, `global[${i}].match`, g.match));
  (flow.template_buttons ?? []).forEach((t, i) => many(`template_buttons.${i + 1}.labels`, `template_buttons[${i}].labels`, t.labels));
  (flow.faq ?? []).forEach((f, i) => {
    many(`faq.${f.id}.questions`, `faq[${i}].questions`, f.questions);
    one(`faq.${f.id}.answer`, `faq[${i}].answer`, f.answer);
  });
  for (const [id, node] of Object.entries(flow.nodes)) {
    const p = `nodes.${id}`;
    switch (node.type) {
      case 'message':
        one(`${id}.text`, `${p}.text`, node.text, id);
        if (node.media && typeof node.media.link !== 'string') one(`${id}.media`, `${p}.media.link`, node.media.link, id);
        one(`${id}.filename`, `${p}.media.filename`, node.media?.filename, id);
        one(`${id}.location_name`, `${p}.location.name`, node.location?.name, id);
        one(`${id}.location_address`, `${p}.location.address`, node.location?.address, id);
        one(`${id}.button`, `${p}.button.label`, node.button?.label, id);
        break;
      case 'menu':
        one(`${id}.header`, `${p}.header`, node.header, id);
        one(`${id}.text`, `${p}.text`, node.text, id);
        one(`${id}.footer`, `${p}.footer`, node.footer, id);
        one(`${id}.button`, `${p}.button`, node.button, id);
        node.options.forEach((o, i) => {
          one(`${id}.option.${o.id}`, `${p}.options[${i}].title`, o.title, id);
          one(`${id}.description.${o.id}`, `${p}.options[${i}].description`, o.description, id);
        });
        one(`${id}.no_match`, `${p}.no_match.text`, node.no_match?.text, id);
        break;
      case 'ask':
        one(`${id}.text`, `${p}.text`, node.text, id);
        (node.choices ?? []).forEach((c, i) => one(`${id}.choice.${c.id}`, `${p}.choices[${i}].title`, c.title, id));
        one(`${id}.error`, `${p}.error`, node.error, id);
        many(`${id}.skip`, `${p}.skip.words`, node.skip?.words, id);
        break;
      case 'case':
      case 'handoff':
      case 'language':
      case 'end':
        one(`${id}.text`, `${p}.text`, node.text, id);
        break;
      case 'call':
        break;
    }
  }
  return out;
}

/** One language's texts as a flat, ordered map `key → text` (lists stay lists). */
export function exportStrings(flow: FlowDefinition, language: string): Record<string, string | string[]> {
  const map: Record<string, string | string[]> = {};
  for (const e of collectTexts(flow)) {
    const value = e.texts[language];
    map[e.key] = value ?? (e.list ? [] : '');
  }
  return map;
}

/** The same map as a YAML file for translators, with the flow's first language as comments. */
export function exportStringsYaml(flow: FlowDefinition, language: string): string {
  const source = flow.languages[0];
  const lines = [`# ${flow.flow}: texts in ${language}. Keep the keys; translate the values; keep {{…}} as they are.`];
  for (const e of collectTexts(flow)) {
    const value = e.texts[language] ?? (e.list ? [] : '');
    if (language !== source && e.texts[source] !== undefined) {
      const value = e.texts[source];
      const original = (Array.isArray(value) ? value.join(', ') : value).replace(/\n/g, ' ');
      lines.push(`# ${source}: ${original}`);
    }
    lines.push(stringify({ [e.key]: value }, { lineWidth: 0 }).trimEnd());
  }
  return lines.join('\n') + '\n';
}

export type ImportResult =
  | { ok: true; flow: FlowDefinition; missing: string[] }
  | { ok: false; unknown: string[]; invalid: string[]; missing: string[] };

/**
 * The flow with `language`'s texts replaced by the map's: unknown keys or values of the wrong
 * shape refuse the whole import (nothing half-applied); keys the map lacks are reported as missing
 * and keep their current text. Adds `language` to the flow's languages when new.
 */
export function importStrings(flow: FlowDefinition, language: string, map: Record<string, unknown>): ImportResult {
  const entries = collectTexts(flow);
  const byKey = new Map(entries.map((e) => [e.key, e]));
  const unknown = Object.keys(map).filter((k) => !byKey.has(k));
  const invalid = Object.entries(map)
    .filter(([k, v]) => {
      const e = byKey.get(k);
      if (!e) return false;
      return e.list ? !(Array.isArray(v) && v.every((x) => typeof x === 'string' && x.trim())) : typeof v !== 'string';
    })
    .map(([k]) => k);
  const missing = entries
    .filter((e) => {
      const v = map[e.key];
      return v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
    })
    .map((e) => e.key);
  if (unknown.length || invalid.length) return { ok: false, unknown, invalid, missing };
  const copy = structuredClone(flow);
  const copyEntries = collectTexts(copy);
  for (const e of copyEntries) {
    const v = map[e.key];
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    (e.texts as Record<string, unknown>)[language] = v;
  }
  if (!copy.languages.includes(language)) copy.languages = [...copy.languages, language];
  return { ok: true, flow: copy, missing };
}

/** Reads a translator's YAML file (a flat map) for `importStrings`. */
export function parseStringsYaml(text: string): Record<string, unknown> {
  const data: unknown = parse(text, { uniqueKeys: true, maxAliasCount: 0 });
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Error('a strings file is a map of key: text');
  return data as Record<string, unknown>;
}
