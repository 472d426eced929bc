/*
 * What publishing checks on a parsed flow, reporting EVERY problem (never the first only) with its
 * node and language: gotos to no node, nodes nothing leads to, nodes that lead nowhere, loops that
 * never wait, missing translations, WhatsApp's limits on what the renderer will send (its option
 * numbers and emoji included; `{{…}}` placeholders count as empty, run-time values are clipped),
 * option counts, durations past the 24-hour window, duplicate ids and bad patterns.
 */
import { builtin, consentKeyword, languageName } from './builtins';
import { FaqIndex } from './faq';
import type { AskNode, Condition, FlowDefinition, FlowNode, FlowProblem, GlobalAction, Goto, MenuNode, MessageNode } from './flow.types';
import { LIMITS, PLACEHOLDER, menuBody, optionLabel, type RenderedOption } from './render';
import { collectTexts } from './strings';
import { charCount, fold, parseDuration } from './text';

const DAY_MS = 24 * 3600 * 1000;
const MAX_OPTIONS = 10;

type Code = FlowProblem['code'];

export function validateFlow(flow: FlowDefinition): FlowProblem[] {
  return new Validator(flow).run();
}

/** Problems as lines for a person (CLI, admin API error details). */
export function formatProblems(problems: FlowProblem[]): string {
  return problems.map((p) => `- ${p.message}`).join('\n');
}

class Validator {
  private readonly problems: FlowProblem[] = [];
  private readonly ids: Set<string>;

  constructor(private readonly flow: FlowDefinition) {
    this.ids = new Set(Object.keys(flow.nodes));
  }

  run(): FlowProblem[] {
    this.gotos();
    this.reachability();
    this.deadEnds();
    this.loops();
    this.translations();
    this.limits();
    this.durations();
    this.duplicates();
    this.patterns();
    this.requiredFields();
    this.keywords();
    this.shadowedOptions();
    this.faq();
    this.values();
    this.links();
    return this.problems;
  }

  private add(code: Code, message: string, at: { node?: string; language?: string; path?: string } = {}): void {
    const where = at.node ? `node ${at.node}${at.language ? ` (${at.language})` : ''}: ` : '';
    this.problems.push({ code, message: `${where}${message}`, ...at });
  }

  /* -- gotos ------------------------------------------------------------------------------- */

  /** Every node reference: where it is written, the target, and the node it leaves from (if any). */
  private references(): { from?: string; field: string; target: string }[] {
    const refs: { from?: string; field: string; target: string }[] = [];
    const f = this.flow;
    refs.push({ field: 'start', target: f.start });
    if (f.menu) refs.push({ field: 'menu', target: f.menu });
    (f.global ?? []).forEach((g, i) => g.goto && refs.push({ field: `global[${i}].goto`, target: g.goto }));
    (f.template_buttons ?? []).forEach((t, i) => t.goto && refs.push({ field: `template_buttons[${i}].goto`, target: t.goto }));
    (f.faq ?? []).forEach((q) => q.goto && refs.push({ field: `faq ${q.id} goto`, target: q.goto }));
    for (const [id, node] of Object.entries(f.nodes)) {
      for (const [field, target] of this.nodeTargets(node)) refs.push({ from: id, field, target });
    }
    return refs;
  }

  private nodeTargets(node: FlowNode): [string, string][] {
    const out: [string, string][] = [];
    const goto = (field: string, g: Goto | undefined) => {
      if (g === undefined) return;
      if (typeof g === 'string') out.push([field, g]);
      else g.forEach((b, i) => out.push([`${field}[${i}]`, b.goto]));
    };
    if (node.else) out.push(['else', node.else]);
    switch (node.type) {
      case 'message':
      case 'case':
      case 'language':
        goto('goto', node.goto);
        break;
      case 'menu':
        node.options.forEach((o) => goto(`option ${o.id} goto`, o.goto));
        if (node.no_match?.then) out.push(['no_match.then', node.no_match.then]);
        break;
      case 'ask':
        goto('goto', node.goto);
        if (node.retry) out.push(['retry.then', node.retry.then]);
        if (node.skip?.goto) out.push(['skip.goto', node.skip.goto]);
        if (node.timeout) out.push(['timeout.goto', node.timeout.goto]);
        break;
      case 'call':
        goto('goto', node.goto);
        out.push(['on_error', node.on_error]);
        break;
      case 'handoff':
      case 'end':
        break;
    }
    return out;
  }

  private gotos(): void {
    for (const r of this.references()) {
      if (!this.ids.has(r.target)) {
        this.add('unresolved_goto', `${r.field} goes to "${r.target}", which is no node`, r.from ? { node: r.from } : { path: r.field });
      }
    }
  }

  /** Nodes an action leads to (`menu`, `restart`); the others return or leave the flow. */
  private actionTargets(action: GlobalAction | undefined): string[] {
    if (action === 'menu') return [this.flow.menu ?? this.flow.start];
    if (action === 'restart') return [this.flow.start];
    if (action === 'language') return Object.entries(this.flow.nodes).flatMap(([id, n]) => (n.type === 'language' ? [id] : []));
    return [];
  }

  private reachability(): void {
    const f = this.flow;
    const roots = [f.start, f.menu, ...(f.global ?? []).flatMap((g) => (g.goto ? [g.goto] : this.actionTargets(g.do)))];
    roots.push(...(f.template_buttons ?? []).flatMap((t) => (t.goto ? [t.goto] : this.actionTargets(t.do))));
    roots.push(...(f.faq ?? []).flatMap((q) => (q.goto ? [q.goto] : [])));
    const seen = new Set<string>();
    const queue = roots.filter((r): r is string => !!r && this.ids.has(r));
    while (queue.length) {
      const id = queue.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const node = f.nodes[id];
      const next = this.nodeTargets(node).map(([, t]) => t);
      if (node.type === 'menu') node.options.forEach((o) => next.push(...this.actionTargets(o.do)));
      if (node.type === 'language' && !node.goto) next.push(f.menu ?? f.start);
      for (const t of next) if (this.ids.has(t) && !seen.has(t)) queue.push(t);
    }
    for (const id of this.ids) {
      if (!seen.has(id)) this.add('unreachable', 'is unreachable from start, the menu, global keywords and template buttons', { node: id });
    }
  }

  /* -- dead ends and loops ----------------------------------------------------------------- */

  private deadEnds(): void {
    for (const [id, node] of Object.entries(this.flow.nodes)) {
      const goto = 'goto' in node ? (node.goto as Goto | undefined) : undefined;
      if ((node.type === 'message' || node.type === 'case') && goto === undefined) {
        this.add('dead_end', `a ${node.type} node neither waits nor goes anywhere (add goto, or use an end node)`, { node: id });
      }
      if (Array.isArray(goto) && goto[goto.length - 1]?.if) {
        this.add('dead_end', 'goto branches have no default (end them with a branch without "if")', { node: id });
      }
      if (node.type === 'menu') {
        for (const o of node.options) {
          if (Array.isArray(o.goto) && o.goto[o.goto.length - 1]?.if) {
            this.add('dead_end', `option ${o.id}: goto branches have no default (end them with a branch without "if")`, { node: id });
          }
        }
      }
      if (node.when && !node.else && goto === undefined) {
        this.add('dead_end', '"when" without "else": where does the flow go when the condition is false?', { node: id });
      }
    }
  }

  /** Cycles of nodes that never wait (message, call, case) would run until the step limit. */
  private loops(): void {
    const passing = (n: FlowNode) => n.type === 'message' || n.type === 'call' || n.type === 'case';
    const state = new Map<string, 1 | 2>();
    const reported = new Set<string>();
    const visit = (id: string, stack: string[]) => {
      state.set(id, 1);
      for (const [, t] of this.nodeTargets(this.flow.nodes[id])) {
        const target = this.flow.nodes[t];
        if (!target || !passing(target)) continue;
        if (state.get(t) === 1) {
          const cycle = [...stack.slice(stack.indexOf(t)), t];
          if (!reported.has(t)) {
            reported.add(t);
            this.add('dead_end', `loops without waiting for the citizen: ${cycle.join(' → ')}`, { node: t });
          }
        } else if (!state.has(t)) visit(t, [...stack, t]);
      }
      state.set(id, 2);
    };
    for (const [id, node] of Object.entries(this.flow.nodes)) if (passing(node) && !state.has(id)) visit(id, [id]);
  }

  /* -- translations ------------------------------------------------------------------------ */

  private translations(): void {
    const langs = this.flow.languages;
    for (const e of collectTexts(this.flow)) {
      for (const lang of langs) {
        const v = e.texts[lang];
        const empty = v === undefined || (typeof v === 'string' ? !v.trim() : v.length === 0);
        if (empty)
          this.add('missing_translation', `${e.key} has no ${lang} text`, { node: e.node, language: lang, path: `${e.path}.${lang}` });
      }
      for (const lang of Object.keys(e.texts)) {
        if (!langs.includes(lang)) {
          this.add('unknown_language', `${e.key} has a ${lang} text but the flow's languages are ${langs.join(', ')}`, {
            node: e.node,
            language: lang,
            path: `${e.path}.${lang}`,
          });
        }
      }
    }
  }

  /* -- WhatsApp's limits ------------------------------------------------------------------- */

  private limits(): void {
    for (const [id, node] of Object.entries(this.flow.nodes)) {
      for (const lang of this.flow.languages) {
        switch (node.type) {
          case 'message':
            this.messageLimits(id, node, lang);
            break;
          case 'menu':
            this.menuLimits(id, node, lang);
            break;
          case 'ask':
            this.askLimits(id, node, lang);
            break;
          case 'language':
            this.choiceLimits(
              id,
              lang,
              this.t(node.text, lang),
              this.flow.languages.map((l) => ({ id: `lang:${l}`, title: languageName(l) })),
              { button: builtin('language_button', lang, this.flow.languages) },
            );
            break;
          case 'case':
          case 'handoff':
          case 'end':
            this.max(id, lang, 'text', this.t(node.text, lang), LIMITS.text);
            break;
          case 'call':
            break;
        }
      }
    }
    for (const q of this.flow.faq ?? []) {
      for (const lang of this.flow.languages) this.max(undefined, lang, `faq ${q.id} answer`, this.t(q.answer, lang), LIMITS.text);
    }
    if (this.flow.languages.length > MAX_OPTIONS) {
      this.add(
        'too_many_options',
        `${this.flow.languages.length} languages do not fit one language menu (WhatsApp allows ${MAX_OPTIONS} rows)`,
      );
    }
  }

  /** Static text of a localized value (placeholders count as nothing: their values are clipped at run time). */
  private t(text: Record<string, string> | undefined, lang: string): string | undefined {
    const v = text?.[lang];
    return v === undefined ? undefined : v.replace(PLACEHOLDER, '');
  }

  private max(node: string | undefined, lang: string, what: string, text: string | undefined, limit: number): void {
    if (text === undefined) return;
    const n = charCount(text);
    if (n > limit) {
      const shown = n > 40 ? `${[...text].slice(0, 30).join('')}…` : text;
      this.add('too_long', `${what} "${shown}" has ${n} characters; WhatsApp allows ${limit}`, { node, language: lang });
    }
  }

  private messageLimits(id: string, node: MessageNode, lang: string): void {
    const text = this.t(node.text, lang);
    if (node.button) {
      this.max(id, lang, 'text above the button', text, LIMITS.buttonBody);
      this.max(id, lang, 'button label', this.t(node.button.label, lang), LIMITS.ctaLabel);
    } else if (node.media) {
      this.max(id, lang, 'caption', text, LIMITS.caption);
    } else {
      this.max(id, lang, 'text', text, LIMITS.text);
    }
    this.max(id, lang, 'document filename', this.t(node.media?.filename, lang), LIMITS.filename);
  }

  private menuLimits(id: string, node: MenuNode, lang: string): void {
    const options: RenderedOption[] = node.options.map((o) => ({
      id: o.id,
      title: this.t(o.title, lang) ?? '',
      description: this.t(o.description, lang),
      emoji: o.emoji,
    }));
    this.choiceLimits(id, lang, this.t(node.text, lang), options, {
      header: this.t(node.header, lang),
      footer: this.t(node.footer, lang),
      button: this.t(node.button, lang),
      needsButton: true,
    });
    this.max(id, lang, 'no_match text', this.t(node.no_match?.text, lang), LIMITS.text);
  }

  private askLimits(id: string, node: AskNode, lang: string): void {
    if (node.expect === 'choice') {
      const options = (node.choices ?? []).map((c) => ({ id: c.id, title: this.t(c.title, lang) ?? '' }));
      this.choiceLimits(id, lang, this.t(node.text, lang), options, { button: builtin('options', lang, this.flow.languages) });
    } else if (node.expect === 'yes_no') {
      const yes = builtin('yes', lang, this.flow.languages);
      const no = builtin('no', lang, this.flow.languages);
      this.choiceLimits(
        id,
        lang,
        this.t(node.text, lang),
        [
          { id: 'yes', title: yes },
          { id: 'no', title: no },
        ],
        { button: '' },
      );
    } else {
      this.max(id, lang, 'question', this.t(node.text, lang), LIMITS.text);
    }
    this.max(id, lang, 'error text', this.t(node.error, lang), LIMITS.text);
  }

  /** Limits of a message with options as the renderer sends it: reply buttons up to 3, a list up to 10. */
  private choiceLimits(
    id: string,
    lang: string,
    text: string | undefined,
    options: RenderedOption[],
    look: { header?: string; footer?: string; button?: string; needsButton?: boolean },
  ): void {
    if (options.length > MAX_OPTIONS) {
      // Reported once per node, not per language.
      if (lang === this.flow.languages[0])
        this.add('too_many_options', `${options.length} options; WhatsApp allows ${MAX_OPTIONS} (split the menu)`, { node: id });
      return;
    }
    const buttons = options.length <= LIMITS.buttons;
    const body = menuBody(text ?? '', options);
    this.max(
      id,
      lang,
      buttons ? 'text with its numbered options' : 'list text with its numbered options',
      body,
      buttons ? LIMITS.buttonBody : LIMITS.listBody,
    );
    this.max(id, lang, 'header', look.header, LIMITS.headerFooter);
    this.max(id, lang, 'footer', look.footer, LIMITS.headerFooter);
    if (buttons) {
      const seen = new Map<string, string>();
      for (const o of options) {
        const label = optionLabel(o);
        this.max(id, lang, `button title (option ${o.id})`, label, LIMITS.buttonTitle);
        if (lang === this.flow.languages[0]) this.maxBytes(id, `option id ${o.id}`, o.id, LIMITS.buttonId);
        const key = label.trim().toLowerCase();
        if (seen.has(key))
          this.add('duplicate_id', `options ${seen.get(key)} and ${o.id} have the same button title "${label}"`, {
            node: id,
            language: lang,
          });
        else seen.set(key, o.id);
      }
    } else {
      // Rows may repeat a title for WhatsApp, but a citizen typing it could mean either.
      const seen = new Map<string, string>();
      for (const o of options) {
        const key = fold(o.title);
        if (seen.has(key))
          this.add('duplicate_id', `options ${seen.get(key)} and ${o.id} have the same title "${o.title}"`, { node: id, language: lang });
        else seen.set(key, o.id);
      }
      if (!look.button && look.needsButton) {
        this.add('missing_field', `a menu of ${options.length} options is a list and needs "button" (the list button's label)`, {
          node: id,
          language: lang,
        });
      } else this.max(id, lang, 'list button label', look.button, LIMITS.listButton);
      for (const o of options) {
        this.max(id, lang, `list row title (option ${o.id})`, optionLabel(o), LIMITS.rowTitle);
        this.max(id, lang, `list row description (option ${o.id})`, o.description, LIMITS.rowDescription);
        if (lang === this.flow.languages[0]) this.maxBytes(id, `option id ${o.id}`, o.id, LIMITS.rowId);
      }
    }
  }

  private maxBytes(node: string, what: string, text: string, limit: number): void {
    if (text.length > limit) this.add('too_long', `${what} has ${text.length} characters; WhatsApp allows ${limit}`, { node });
  }

  /* -- the rest ---------------------------------------------------------------------------- */

  private durations(): void {
    const check = (value: string | undefined, what: string, node?: string) => {
      if (value === undefined) return;
      const ms = parseDuration(value);
      if (!ms) this.add('bad_duration', `${what} "${value}" is no duration (use 30m, 2h, 23h)`, { node });
      else if (ms > DAY_MS) this.add('bad_duration', `${what} "${value}" is past the 24-hour customer service window`, { node });
    };
    check(this.flow.expire_after, 'expire_after');
    for (const [id, node] of Object.entries(this.flow.nodes)) if (node.type === 'ask') check(node.timeout?.after, 'timeout', id);
  }

  private duplicates(): void {
    for (const [id, node] of Object.entries(this.flow.nodes)) {
      const list = node.type === 'menu' ? node.options : node.type === 'ask' ? (node.choices ?? []) : [];
      const seen = new Set<string>();
      for (const o of list) {
        if (seen.has(o.id)) this.add('duplicate_id', `option id "${o.id}" is used twice`, { node: id });
        seen.add(o.id);
      }
    }
    const faq = new Set<string>();
    for (const q of this.flow.faq ?? []) {
      if (faq.has(q.id)) this.add('duplicate_id', `faq id "${q.id}" is used twice`, { path: 'faq' });
      faq.add(q.id);
    }
  }

  private patterns(): void {
    for (const [id, node] of Object.entries(this.flow.nodes)) {
      if (node.type !== 'ask' || !node.validate?.pattern) continue;
      try {
        new RegExp(node.validate.pattern, 'u');
      } catch (e) {
        this.add('bad_pattern', `validate.pattern "${node.validate.pattern}" is no valid regular expression (${(e as Error).message})`, {
          node: id,
        });
      }
    }
  }

  /**
   * Every `{{value}}` and condition `var` names something the flow saves (an ask's or call's
   * `save`, anything under a call's answer, `case.reference`) or `contact.name`/`session.language`:
   * a typo would otherwise show as an empty space to citizens.
   */
  private values(): void {
    const saved = new Set<string>(['contact.name', 'session.language', 'case.reference']);
    const answers: string[] = [];
    for (const node of Object.values(this.flow.nodes)) {
      if (node.type === 'ask') saved.add(node.save);
      if (node.type === 'call') answers.push(node.save);
    }
    const known = (path: string) =>
      saved.has(path) ||
      [...saved].some((s) => s.startsWith(`${path}.`)) ||
      answers.some((a) => path === a || path.startsWith(`${a}.`) || a.startsWith(`${path}.`));
    const check = (path: string, where: string, node?: string) => {
      if (!known(path)) this.add('unknown_value', `${where} uses "${path}", which nothing in the flow saves`, { node });
    };
    for (const e of collectTexts(this.flow)) {
      const seen = new Set<string>();
      for (const text of Object.values(e.texts).flat()) {
        for (const [, path] of text.matchAll(PLACEHOLDER)) {
          if (!seen.has(path)) check(path, `${e.key} {{${path}}}`, e.node);
          seen.add(path);
        }
      }
    }
    const conditions = (c: Condition | undefined, where: string, node?: string) => {
      if (!c) return;
      if ('all' in c) c.all.forEach((x) => conditions(x, where, node));
      else if ('any' in c) c.any.forEach((x) => conditions(x, where, node));
      else check(c.var, where, node);
    };
    for (const [id, node] of Object.entries(this.flow.nodes)) {
      conditions(node.when, 'when', id);
      const gotos: (Goto | undefined)[] = [(node as { goto?: Goto }).goto];
      if (node.type === 'menu') gotos.push(...node.options.map((o) => o.goto));
      for (const g of gotos) if (Array.isArray(g)) g.forEach((b) => conditions(b.if, 'a goto branch', id));
      if (node.type === 'call')
        for (const [k, v] of Object.entries(node.input ?? {})) for (const [, p] of v.matchAll(PLACEHOLDER)) check(p, `input ${k}`, id);
      if (node.type === 'case') node.fields.forEach((f) => check(f, 'fields', id));
      if (node.type === 'message') {
        for (const url of [node.button?.url, typeof node.media?.link === 'string' ? node.media.link : undefined]) {
          for (const [, p] of (url ?? '').matchAll(PLACEHOLDER)) check(p, 'a link', id);
        }
      }
    }
  }

  /** Media links per language must be https (the schema checks single links); CTA URLs http(s). */
  private links(): void {
    for (const [id, node] of Object.entries(this.flow.nodes)) {
      if (node.type !== 'message' || !node.media || typeof node.media.link === 'string') continue;
      for (const [lang, link] of Object.entries(node.media.link)) {
        if (!/^https:\/\/\S+$/.test(link)) this.add('bad_link', `media link "${link}" is no https URL`, { node: id, language: lang });
      }
    }
  }

  /**
   * Global keywords the flow would never see (the service takes consent keywords first) or that
   * two rules claim (the first would always win).
   */
  private keywords(): void {
    const owner = new Map<string, number>();
    (this.flow.global ?? []).forEach((rule, i) => {
      for (const [lang, words] of Object.entries(rule.match)) {
        for (const word of words) {
          const consent = consentKeyword(word, this.flow.languages);
          if (consent) {
            this.add(
              'keyword_conflict',
              `global[${i}] keyword "${word}" (${lang}) is a consent keyword (${consent}): it never reaches the flow`,
              {
                language: lang,
                path: `global[${i}].match.${lang}`,
              },
            );
          }
          const key = fold(word);
          const first = owner.get(key);
          if (first !== undefined && first !== i) {
            this.add('keyword_conflict', `global[${i}] keyword "${word}" (${lang}) is global[${first}]'s too: the first rule wins`, {
              language: lang,
              path: `global[${i}].match.${lang}`,
            });
          } else owner.set(key, i);
        }
      }
    });
  }

  /** What a `do` or `goto` does, comparable (`do: menu` is a goto to the menu node). */
  private effect(action: GlobalAction | undefined, goto: Goto | undefined): string | undefined {
    if (action === 'menu') return `goto:${this.flow.menu ?? this.flow.start}`;
    if (action) return `do:${action}`;
    return typeof goto === 'string' ? `goto:${goto}` : undefined;
  }

  /** An option whose title is a global keyword with another effect can never be chosen by typing it. */
  private shadowedOptions(): void {
    const rules = this.flow.global ?? [];
    for (const [id, node] of Object.entries(this.flow.nodes)) {
      if (node.type !== 'menu') continue;
      for (const o of node.options) {
        for (const [lang, title] of Object.entries(o.title)) {
          const i = rules.findIndex((r) => Object.values(r.match).some((words) => words.some((w) => fold(w) === fold(title))));
          if (i < 0) continue;
          const rule = rules[i];
          if (this.effect(rule.do, rule.goto) !== this.effect(o.do, o.goto)) {
            this.add(
              'keyword_conflict',
              `option ${o.id}'s title "${title}" is a keyword of global[${i}], which does something else when typed`,
              {
                node: id,
                language: lang,
              },
            );
          }
        }
      }
    }
  }

  /** Each FAQ question must find its own entry: else its entries are too alike or it says nothing. */
  private faq(): void {
    const entries = this.flow.faq ?? [];
    if (!entries.length) return;
    const index = new FaqIndex(entries);
    entries.forEach((entry, i) => {
      for (const [lang, questions] of Object.entries(entry.questions)) {
        for (const q of questions) {
          const { entry: found, tied } = index.match(q);
          if (found === entry) continue;
          const twin = entries.find((e) => e !== entry && Object.values(e.questions).some((list) => list.some((o) => fold(o) === fold(q))));
          const rivals = tied.filter((e) => e !== entry).map((e) => e.id);
          const why = twin
            ? `is also a question of entry ${twin.id}`
            : found
              ? `finds entry ${found.id} instead (the entries' questions are too alike)`
              : rivals.length
                ? `is as close to entry ${rivals.join(', ')} (the entries' questions are too alike)`
                : 'finds no entry (too short, or only common words)';
          this.add('faq_unmatched', `faq ${entry.id}: the question "${q}" (${lang}) ${why}`, {
            language: lang,
            path: `faq[${i}].questions.${lang}`,
          });
        }
      }
    });
  }

  private requiredFields(): void {
    const f = this.flow;
    const actions: { action?: GlobalAction; where: string; node?: string }[] = [
      ...(f.global ?? []).map((g, i) => ({ action: g.do, where: `global[${i}]` })),
      ...(f.template_buttons ?? []).map((t, i) => ({ action: t.do, where: `template_buttons[${i}]` })),
    ];
    for (const [id, node] of Object.entries(f.nodes)) {
      if (node.type === 'menu') node.options.forEach((o) => actions.push({ action: o.do, where: `option ${o.id}`, node: id }));
      if (node.type === 'ask' && node.expect === 'choice' && !node.choices?.length) {
        this.add('missing_field', 'a choice question needs "choices"', { node: id });
      }
      if (node.type === 'ask' && node.expect !== 'choice' && node.choices) {
        this.add('missing_field', `"choices" only go with expect: choice (this question expects ${node.expect})`, { node: id });
      }
      if (node.type === 'message' && !node.text && !node.media && !node.location) {
        this.add('missing_field', 'a message node needs text, media or location', { node: id });
      }
      if (node.type === 'message' && node.button && !node.text) {
        this.add('missing_field', 'a message with a button needs text (WhatsApp requires a body)', { node: id });
      }
      if (node.type === 'message' && node.button && node.location) {
        this.add('missing_field', 'a message cannot have both a button and a location', { node: id });
      }
    }
    if (!f.default_department) {
      if (f.max_fallbacks) this.add('missing_field', 'max_fallbacks hands off to an agent but the flow has no default_department');
      for (const a of actions) {
        if (a.action === 'agent')
          this.add('missing_field', `${a.where} hands off to an agent but the flow has no default_department`, { node: a.node });
      }
    }
  }
}
