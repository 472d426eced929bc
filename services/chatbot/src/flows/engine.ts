/*
 * The flow engine: one citizen message in, the messages and effects it causes out. Pure but for
 * the `EngineContext` (integrations, case references, media downloads), so the service runs a
 * turn and stores its session and outputs in one transaction.
 *
 * A turn: consent keywords first (STOP/START in any of the flow's languages), then template buttons,
 * then the flow's global keywords, then the waiting node's own handling. A new session (none, or
 * expired) shows the start node, after an FAQ answer when the first message asks one. Nothing a
 * citizen sends goes unanswered: unknown kinds get a polite line and the waiting node again.
 */
import { builtin, consentKeyword, languageName, yesNo, type BuiltinKey } from './builtins';
import { faqIndex } from './faq';
import type {
  AskNode,
  Condition,
  EngineContext,
  FlowDefinition,
  FlowNode,
  GlobalAction,
  Goto,
  LanguageNode,
  Localized,
  MenuNode,
  MenuOption,
  MessageNode,
  OutgoingMessage,
  Session,
  TurnInput,
  TurnOutput,
  TurnResult,
} from './flow.types';
import { matchByWords, matchChoice, type Choice, type ChoiceInput } from './match';
import {
  assign,
  interpolate,
  lookup,
  pick,
  renderCtaUrl,
  renderLocation,
  renderMedia,
  renderMenu,
  renderText,
  type RenderedOption,
} from './render';
import { fold, parseDate, parseDuration, parseNumber } from './text';

/** Sentences up to this many words are searched for a global keyword. */
const SENTENCE_KEYWORD_MAX_WORDS = 8;
/** The waiting id of the built-in language menu (opened by a keyword or an option's `do`). */
export const LANGUAGE_MENU = '@language';
/** Nodes run in one turn without waiting before the flow is judged broken (a loop). */
const MAX_STEPS = 100;
const TRAIL_MAX = 20;
const DEFAULT_EXPIRY = '23h';

/**
 * Runs one turn. Never throws for anything a citizen sends, nor for a broken flow (the citizen gets
 * an apology, the session ends and `error` says why). `ctx.call` and `ctx.fetchMedia` failures
 * take the flow's error paths; an error from `ctx.nextCaseReference` (the service's database)
 * propagates, so the service's transaction fails and the message is retried. The given session
 * is not modified.
 */
export async function runTurn(
  flow: FlowDefinition,
  version: number,
  session: Session | null,
  input: TurnInput,
  ctx: EngineContext,
): Promise<TurnResult> {
  return new Turn(flow, ctx).run(version, session, input);
}

/** The flow language closest to a wished one (`pt` → `pt_BR`), else the flow's first. */
export function flowLanguage(flow: FlowDefinition, wished?: string): string {
  if (wished) {
    if (flow.languages.includes(wished)) return wished;
    const base = wished.split('_')[0];
    const near = flow.languages.find((l) => l.split('_')[0] === base);
    if (near) return near;
  }
  return flow.languages[0];
}

class BrokenFlow extends Error {}

type Answer =
  | { ok: true; value: unknown }
  | { ok: false; error: BuiltinKey; custom?: boolean; counts: boolean }
  | { ok: false; unsupported: true };

class Turn {
  private s!: Session;
  private readonly out: TurnOutput[] = [];
  private ended = false;
  private steps = 0;
  private error?: string;

  constructor(
    private readonly flow: FlowDefinition,
    private readonly ctx: EngineContext,
  ) {}

  async run(version: number, session: Session | null, input: TurnInput): Promise<TurnResult> {
    const expired = session?.expiresAt ? Date.parse(session.expiresAt) <= this.ctx.now.getTime() : false;
    const fresh = !session || !session.waiting || expired;
    this.s = fresh ? this.newSession(version, session) : (structuredClone(session) as Session);
    try {
      await this.handle(input, fresh);
    } catch (e) {
      if (!(e instanceof BrokenFlow)) throw e;
      this.error = e.message;
      this.say(this.builtin('broken'));
      this.ended = true;
    }
    if (this.ended) {
      this.s.waiting = null;
      this.s.timeoutAt = null;
      this.s.resume = null;
      this.s.expiresAt = null;
    } else if (input.kind !== 'timeout' || !this.s.expiresAt) {
      // Idle time counts from the citizen's last message: a timeout firing is not one.
      const idle = parseDuration(this.flow.expire_after ?? DEFAULT_EXPIRY) ?? parseDuration(DEFAULT_EXPIRY)!;
      this.s.expiresAt = new Date(this.ctx.now.getTime() + idle).toISOString();
    }
    const result: TurnResult = { session: this.s, outputs: this.out, ended: this.ended };
    if (this.error) result.error = this.error;
    return result;
  }

  private newSession(version: number, previous: Session | null): Session {
    // A citizen who chose a language keeps it in the next session.
    const language = previous?.languageChosen ? flowLanguage(this.flow, previous.language) : flowLanguage(this.flow, this.ctx.language);
    return {
      flow: this.flow.flow,
      version,
      language,
      waiting: null,
      trail: [],
      vars: {},
      retries: 0,
      fallbacks: 0,
      timeoutAt: null,
      languageChosen: previous?.languageChosen ?? false,
      resume: null,
      expiresAt: null,
    };
  }

  /* ------------------------------------------------------------------------------------------ */

  private async handle(input: TurnInput, fresh: boolean): Promise<void> {
    if (input.kind === 'timeout') {
      const node = this.s.waiting ? this.flow.nodes[this.s.waiting] : undefined;
      // A timeout that is no longer due (answered meanwhile, or another node waits) says nothing.
      const due = this.s.timeoutAt !== null && Date.parse(this.s.timeoutAt) <= this.ctx.now.getTime();
      if (!fresh && due && node?.type === 'ask' && node.timeout) return this.go(node.timeout.goto);
      if (fresh) this.ended = true;
      return;
    }
    if (input.kind === 'text') {
      const consent = consentKeyword(input.text, this.flow.languages);
      if (consent) return this.act(consent, fresh, input.text.trim());
    }
    if (input.kind === 'template_button') {
      const rule = this.templateRule(input.payload, input.text);
      if (rule) {
        if (rule.do) return this.act(rule.do, fresh, undefined, 'template_button');
        return this.go(rule.goto!);
      }
      return this.handle({ kind: 'text', text: input.text }, fresh);
    }
    if (input.kind === 'text') {
      const rule = this.globalRule(input.text);
      if (rule) return rule.do ? this.act(rule.do, fresh) : this.go(rule.goto!);
    }
    const stale = input.kind === 'reply' && !this.ownsReply(fresh ? null : this.s.waiting, input.id) ? this.staleOption(input) : undefined;
    if (stale) return this.choose(stale.node, stale.option);
    if (fresh) {
      if (input.kind === 'text' && this.flow.faq?.length) {
        const hit = faqIndex(this.flow.faq).search(input.text);
        if (hit) {
          this.say(this.text(hit.answer));
          return this.go(hit.goto ?? this.flow.start);
        }
      }
      return this.go(this.flow.start);
    }
    const waiting = this.s.waiting!;
    if (input.kind === 'start') return this.show(waiting);
    // A tap on an earlier language menu's row: switch, and show the waiting node in that language.
    if (
      input.kind === 'reply' &&
      input.id.startsWith('lang:') &&
      waiting !== LANGUAGE_MENU &&
      this.flow.nodes[waiting]?.type !== 'language'
    ) {
      const language = input.id.slice(5);
      if (this.flow.languages.includes(language)) {
        this.setLanguage(language);
        return this.show(waiting);
      }
    }
    if (waiting === LANGUAGE_MENU) return this.onLanguage(input, undefined);
    const node = this.flow.nodes[waiting];
    if (!node) return this.go(this.flow.start);
    switch (node.type) {
      case 'menu':
        return this.onMenu(waiting, node, input);
      case 'ask':
        return this.onAsk(waiting, node, input);
      case 'language':
        return this.onLanguage(input, node);
      default:
        return this.go(this.flow.start);
    }
  }

  private templateRule(payload: string | undefined, text: string) {
    const rules = this.flow.template_buttons ?? [];
    if (payload) {
      const byPayload = rules.find((r) => r.payloads?.includes(payload));
      if (byPayload) return byPayload;
    }
    const f = fold(text);
    return f ? rules.find((r) => Object.values(r.labels ?? {}).some((list) => list.some((l) => fold(l) === f))) : undefined;
  }

  /**
   * The global rule a text names: the whole text is a keyword, or a short sentence contains one as
   * whole words ("quiero hablar con un agente"). Longer texts are left to the waiting node, where a
   * keyword in passing is more likely part of a question than a command.
   */
  private globalRule(text: string) {
    if (text.length > 60) return undefined;
    const f = fold(text);
    if (!f) return undefined;
    const rules = this.flow.global ?? [];
    const exact = rules.find((r) => Object.values(r.match).some((list) => list.some((w) => fold(w) === f)));
    if (exact || f.split(' ').length > SENTENCE_KEYWORD_MAX_WORDS) return exact;
    const padded = ` ${f} `;
    return rules.find((r) =>
      Object.values(r.match).some((list) =>
        list.some((w) => {
          const k = fold(w);
          return k !== '' && padded.includes(` ${k} `);
        }),
      ),
    );
  }

  /** A global action, from a keyword, an option's `do` or a template button. */
  private async act(action: GlobalAction, fresh: boolean, keyword?: string, handoffReason = 'asked_for_agent'): Promise<void> {
    switch (action) {
      case 'menu':
        return this.go(this.flow.menu ?? this.flow.start);
      case 'restart':
        this.s.vars = {};
        this.s.trail = [];
        return this.go(this.flow.start);
      case 'back': {
        const trail = this.s.trail;
        while (trail.length && trail[trail.length - 1] === this.s.waiting) trail.pop();
        const previous = trail.pop();
        return this.go(previous ?? this.flow.menu ?? this.flow.start);
      }
      case 'agent':
        return this.handoff(this.flow.default_department ?? 'general', handoffReason, 0, undefined);
      case 'language': {
        // The flow's own language node (its prompt is translated) if it has one, else a built-in menu.
        const current = this.s.waiting && this.flow.nodes[this.s.waiting]?.type !== 'language' ? this.s.waiting : null;
        if (this.s.waiting !== LANGUAGE_MENU) this.s.resume = fresh ? null : current;
        const own = Object.entries(this.flow.nodes).find(([, n]) => n.type === 'language')?.[0];
        return own ? this.go(own) : this.showLanguageMenu(undefined);
      }
      case 'opt_out':
        this.out.push({ type: 'consent', state: 'opted_out', keyword: keyword ?? 'opt_out' });
        this.say(this.builtin('opted_out'));
        this.ended = true;
        return;
      case 'opt_in':
        this.out.push({ type: 'consent', state: 'opted_in', keyword: keyword ?? 'opt_in' });
        this.say(this.builtin('opted_in'));
        return fresh || !this.s.waiting ? this.go(this.flow.start) : this.show(this.s.waiting);
    }
  }

  /* ------------------------------------------------------------------------------------------ */

  /** Runs nodes from `target` until one waits or the session ends. */
  private async go(target: string): Promise<void> {
    let id: string | undefined = target;
    while (id !== undefined) {
      if (++this.steps > MAX_STEPS) throw new BrokenFlow(`more than ${MAX_STEPS} nodes without waiting (a loop?) at ${id}`);
      const node: FlowNode | undefined = this.flow.nodes[id];
      if (!node) throw new BrokenFlow(`unknown node ${id}`);
      if (node.when && !this.holds(node.when)) {
        id = node.else ?? this.next(node, id, true);
        continue;
      }
      id = await this.enter(id, node);
    }
  }

  /** The node after `node` by its `goto` (undefined for nodes that wait or end). */
  private next(node: FlowNode, id: string, skipping = false): string | undefined {
    const goto = 'goto' in node ? (node.goto as Goto | undefined) : undefined;
    const target = this.resolve(goto);
    if (target === undefined && (skipping || goto !== undefined)) throw new BrokenFlow(`no way on from ${id}`);
    return target;
  }

  private resolve(goto: Goto | undefined): string | undefined {
    if (goto === undefined) return undefined;
    if (typeof goto === 'string') return goto;
    return goto.find((b) => !b.if || this.holds(b.if))?.goto;
  }

  /** Enters a node: returns the next node, or undefined when it waits or ends the session. */
  private async enter(id: string, node: FlowNode): Promise<string | undefined> {
    switch (node.type) {
      case 'message':
        this.sendMessageNode(node);
        return this.required(node.goto, id);
      case 'menu':
      case 'ask':
      case 'language':
        this.wait(id, node);
        return undefined;
      case 'call': {
        const input = Object.fromEntries(Object.entries(node.input ?? {}).map(([k, v]) => [k, this.fill(v)]));
        let result: Awaited<ReturnType<EngineContext['call']>>;
        try {
          result = await this.ctx.call(node.integration, input);
        } catch (e) {
          result = { ok: false, error: (e as Error).message };
        }
        if (!result.ok || typeof result.data !== 'object' || result.data === null || Array.isArray(result.data)) return node.on_error;
        assign(this.s.vars, node.save, result.data);
        return this.required(node.goto, id);
      }
      case 'case': {
        const reference = await this.ctx.nextCaseReference(node.reference_prefix);
        const fields = Object.fromEntries(node.fields.map((f) => [f, lookup(this.s.vars, f) ?? null]));
        this.out.push({ type: 'case', kind: node.kind, reference, fields });
        assign(this.s.vars, 'case.reference', reference);
        this.say(this.text(node.text));
        return this.required(node.goto, id);
      }
      case 'handoff':
        this.handoff(node.department, node.reason ?? 'flow', node.priority ?? 0, node.text);
        return undefined;
      case 'end':
        if (node.text) this.say(this.text(node.text));
        this.ended = true;
        return undefined;
    }
  }

  private required(goto: Goto | undefined, id: string): string {
    const target = this.resolve(goto);
    if (target === undefined) throw new BrokenFlow(`no way on from ${id}`);
    return target;
  }

  private wait(id: string, node: MenuNode | AskNode | LanguageNode): void {
    if (node.type !== 'language') this.s.resume = null;
    this.s.waiting = id;
    this.s.retries = 0;
    this.s.timeoutAt = null;
    if (this.s.trail[this.s.trail.length - 1] !== id) {
      this.s.trail.push(id);
      if (this.s.trail.length > TRAIL_MAX) this.s.trail.splice(0, this.s.trail.length - TRAIL_MAX);
    }
    if (node.type === 'ask' && node.timeout) {
      const ms = parseDuration(node.timeout.after);
      if (ms) this.s.timeoutAt = new Date(this.ctx.now.getTime() + ms).toISOString();
    }
    this.show(id);
  }

  private handoff(department: string, reason: string, priority: number, text: Localized | undefined): void {
    this.say(text ? this.text(text) : this.builtin('agent'));
    this.out.push({ type: 'handoff', department, reason, priority, language: this.s.language });
    this.ended = true;
  }

  /* ------------------------------------------------------------------------------------------ */

  /** Shows a waiting node's prompt again (or for the first time), without moving. */
  private show(id: string): void {
    if (id === LANGUAGE_MENU) return this.showLanguageMenu(undefined);
    const node = this.flow.nodes[id];
    if (!node) return;
    if (node.type === 'menu') {
      this.send(
        renderMenu(this.text(node.text), this.menuOptions(node), {
          header: this.optText(node.header),
          footer: this.optText(node.footer),
          button: this.optText(node.button) ?? this.builtin('options'),
        }),
      );
    } else if (node.type === 'ask') {
      const options = this.askOptions(node);
      if (options) this.send(renderMenu(this.text(node.text), options, { button: this.builtin('options') }));
      else this.say(this.text(node.text));
    } else if (node.type === 'language') {
      this.showLanguageMenu(node, false);
    }
  }

  private showLanguageMenu(node: LanguageNode | undefined, setWaiting = true): void {
    if (!node && setWaiting) {
      this.s.waiting = LANGUAGE_MENU;
      this.s.retries = 0;
      this.s.timeoutAt = null;
    }
    const prompt = node ? this.text(node.text) : this.builtin('language_prompt');
    this.send(renderMenu(prompt, this.languageOptions(), { button: this.builtin('language_button') }));
  }

  private languageOptions(): RenderedOption[] {
    return this.flow.languages.map((code) => ({ id: `lang:${code}`, title: languageName(code) }));
  }

  private menuOptions(node: MenuNode): RenderedOption[] {
    return node.options.map((o) => ({
      id: o.id,
      title: this.text(o.title),
      description: this.optText(o.description),
      emoji: o.emoji,
    }));
  }

  private askOptions(node: AskNode): RenderedOption[] | undefined {
    if (node.expect === 'choice') return (node.choices ?? []).map((c) => ({ id: c.id, title: this.text(c.title) }));
    if (node.expect === 'yes_no')
      return [
        { id: 'yes', title: this.builtin('yes') },
        { id: 'no', title: this.builtin('no') },
      ];
    return undefined;
  }

  /* ------------------------------------------------------------------------------------------ */

  private choiceInput(input: TurnInput): ChoiceInput | undefined {
    if (input.kind === 'text') return { kind: 'text', text: input.text };
    if (input.kind === 'reply') return { kind: 'reply', id: input.id, title: input.title };
    return undefined;
  }

  private choices(items: { id: string; title: Localized; emoji?: string }[]): Choice[] {
    const langs = [this.s.language, ...this.flow.languages.filter((l) => l !== this.s.language)];
    return items.map((o) => ({ id: o.id, titles: langs.map((l) => o.title[l]).filter((t): t is string => !!t), emoji: o.emoji }));
  }

  private async onMenu(id: string, node: MenuNode, input: TurnInput): Promise<void> {
    const answer = this.choiceInput(input);
    if (!answer) return this.unsupported(id);
    const choices = this.choices(node.options);
    const index = matchChoice(choices, answer);
    const chosen = (i: number) => this.choose(id, node.options[i]);
    if (index === undefined) {
      const text = answer.kind === 'text' ? answer.text : answer.title;
      return this.noMatch(id, text, {
        faq: node.no_match?.faq !== false,
        retries: node.no_match?.retries,
        then: node.no_match?.then,
        text: node.no_match?.text,
        loose: () => {
          const i = matchByWords(choices, text);
          return i === undefined ? undefined : chosen(i);
        },
      });
    }
    return chosen(index);
  }

  private choose(node: string, option: MenuOption): Promise<void> {
    this.s.fallbacks = 0;
    if (option.do) return this.act(option.do, false);
    return this.go(this.required(option.goto, `${node}.${option.id}`));
  }

  /** Whether a reply id is one the waiting node offers (its options, choices, yes/no or languages). */
  private ownsReply(waiting: string | null, id: string): boolean {
    if (!waiting) return false;
    if (waiting === LANGUAGE_MENU) return id.startsWith('lang:');
    const node = this.flow.nodes[waiting];
    if (node?.type === 'menu') return node.options.some((o) => o.id === id);
    if (node?.type === 'ask') return node.expect === 'yes_no' ? id === 'yes' || id === 'no' : (node.choices ?? []).some((c) => c.id === id);
    return node?.type === 'language' && id.startsWith('lang:');
  }

  /**
   * A tap on a button of an earlier menu (WhatsApp keeps old buttons tappable, also after the
   * session ended): the option it names, when its id and title point to one option of the flow.
   */
  private staleOption(input: { id: string; title: string }): { node: string; option: MenuOption } | undefined {
    const title = fold(input.title);
    const hits: { node: string; option: MenuOption }[] = [];
    for (const [id, node] of Object.entries(this.flow.nodes)) {
      if (node.type !== 'menu') continue;
      for (const option of node.options) {
        if (option.id === input.id && Object.values(option.title).some((t) => fold(t) === title)) hits.push({ node: id, option });
      }
    }
    return hits.length === 1 ? hits[0] : undefined;
  }

  /** Text that is no option: the FAQ, else a re-prompt, `then` after the retries, an agent after too many. */
  private async noMatch(
    id: string,
    text: string,
    rule: {
      faq: boolean;
      retries?: number;
      then?: string;
      text?: Localized;
      error?: BuiltinKey;
      reshow?: boolean;
      /** A looser reading of the options, after the FAQ (it answers questions better). */
      loose?: () => Promise<void> | undefined;
    },
  ): Promise<void> {
    if (rule.faq && this.flow.faq?.length) {
      const hit = faqIndex(this.flow.faq).search(text);
      if (hit) {
        this.s.fallbacks = 0;
        this.say(this.text(hit.answer));
        return hit.goto ? this.go(hit.goto) : this.show(id);
      }
    }
    const loose = rule.loose?.();
    if (loose) return loose;
    this.s.retries += 1;
    this.s.fallbacks += 1;
    if (rule.then && rule.retries !== undefined && this.s.retries > rule.retries) return this.go(rule.then);
    if (this.flow.max_fallbacks && this.s.fallbacks >= this.flow.max_fallbacks && this.flow.default_department) {
      return this.handoff(this.flow.default_department, 'repeated_fallback', 0, undefined);
    }
    this.say(rule.text ? this.text(rule.text) : this.builtin(rule.error ?? 'not_understood'));
    if (rule.reshow !== false) this.show(id);
  }

  /**
   * A kind of message the waiting node cannot take (a voice note, a sticker): said so politely and
   * the node shown again. It counts as a fallback: a citizen who can only send voice notes reaches
   * a person after `max_fallbacks`.
   */
  private async unsupported(id: string): Promise<void> {
    this.s.fallbacks += 1;
    if (this.flow.max_fallbacks && this.s.fallbacks >= this.flow.max_fallbacks && this.flow.default_department) {
      return this.handoff(this.flow.default_department, 'repeated_fallback', 0, undefined);
    }
    this.say(this.builtin('unsupported'));
    this.show(id);
  }

  private async onLanguage(input: TurnInput, node: LanguageNode | undefined): Promise<void> {
    const answer = this.choiceInput(input);
    const id = this.s.waiting!;
    if (!answer) return this.unsupported(id);
    const choices: Choice[] = this.flow.languages.map((code) => ({
      id: `lang:${code}`,
      titles: [languageName(code), code, code.split('_')[0]],
    }));
    const index = matchChoice(choices, answer);
    if (index === undefined) return this.noMatch(id, answer.kind === 'text' ? answer.text : answer.title, { faq: true });
    this.setLanguage(this.flow.languages[index]);
    this.s.fallbacks = 0;
    const resume = this.s.resume;
    if (node?.goto !== undefined) {
      this.s.resume = null;
      return this.go(this.required(node.goto, id));
    }
    this.s.resume = null;
    return this.go(resume && this.flow.nodes[resume] ? resume : (this.flow.menu ?? this.flow.start));
  }

  private setLanguage(language: string): void {
    this.s.language = language;
    this.s.languageChosen = true;
    this.out.push({ type: 'language', language });
  }

  private async onAsk(id: string, node: AskNode, input: TurnInput): Promise<void> {
    if (input.kind === 'text' && node.skip && this.isSkip(input.text, node.skip.words)) {
      assign(this.s.vars, node.save, null);
      this.s.fallbacks = 0;
      return this.go(node.skip.goto ?? this.required(node.goto, id));
    }
    const answer = await this.answer(node, input);
    if (answer.ok) {
      assign(this.s.vars, node.save, answer.value);
      this.s.fallbacks = 0;
      return this.go(this.required(node.goto, id));
    }
    if ('unsupported' in answer) return this.unsupported(id);
    if (!answer.counts) {
      this.say(this.builtin(answer.error));
      return;
    }
    const text = input.kind === 'text' ? input.text : input.kind === 'reply' ? input.title : '';
    // Options are shown again after the error line; a free-text question is not: the line says what to send.
    const withOptions = node.expect === 'choice' || node.expect === 'yes_no';
    return this.noMatch(id, text, {
      // An answer that does not fit may be a question ("how much is it?" when a reference is asked).
      faq: input.kind === 'text',
      retries: node.retry?.max,
      then: node.retry?.then,
      text: node.error,
      error: answer.error,
      reshow: withOptions,
    });
  }

  private isSkip(text: string, words: Record<string, string[]>): boolean {
    const f = fold(text);
    return !!f && Object.values(words).some((list) => list.some((w) => fold(w) === f));
  }

  private async answer(node: AskNode, input: TurnInput): Promise<Answer> {
    const bad = (error: BuiltinKey): Answer => ({ ok: false, error, counts: true });
    const text = input.kind === 'text' ? input.text : input.kind === 'reply' ? input.title : undefined;
    switch (node.expect) {
      case 'text': {
        if (text === undefined) return { ok: false, unsupported: true };
        const v = node.validate ?? {};
        const value = text.trim();
        const length = [...value].length;
        if (!value) return bad('invalid_text');
        if (v.min_length !== undefined && length < v.min_length) return bad('invalid_text');
        if (v.max_length !== undefined && length > v.max_length) return bad('invalid_text');
        if (v.pattern && !safeRegex(v.pattern)?.test(value)) return bad('invalid_text');
        return { ok: true, value };
      }
      case 'number': {
        if (text === undefined) return { ok: false, unsupported: true };
        const n = parseNumber(text);
        const v = node.validate ?? {};
        if (n === undefined || (v.min !== undefined && n < v.min) || (v.max !== undefined && n > v.max)) return bad('invalid_number');
        return { ok: true, value: n };
      }
      case 'date': {
        if (text === undefined) return { ok: false, unsupported: true };
        const d = parseDate(text, this.ctx.now);
        return d ? { ok: true, value: d } : bad('invalid_date');
      }
      case 'yes_no': {
        if (input.kind === 'reply' && (input.id === 'yes' || input.id === 'no')) return { ok: true, value: input.id === 'yes' };
        if (text === undefined) return { ok: false, unsupported: true };
        const yn = yesNo(text);
        if (yn !== undefined) return { ok: true, value: yn };
        const index = matchChoice(
          [
            { id: 'yes', titles: [this.builtin('yes')] },
            { id: 'no', titles: [this.builtin('no')] },
          ],
          { kind: 'text', text },
        );
        return index === undefined ? bad('invalid_yes_no') : { ok: true, value: index === 0 };
      }
      case 'choice': {
        const answer = this.choiceInput(input);
        if (!answer) return { ok: false, unsupported: true };
        const choices = this.choices(node.choices ?? []);
        const index = matchChoice(choices, answer) ?? matchByWords(choices, answer.kind === 'text' ? answer.text : answer.title);
        return index === undefined ? bad('not_understood') : { ok: true, value: node.choices![index].id };
      }
      case 'location':
        if (input.kind === 'location') {
          const value: Record<string, unknown> = { latitude: input.latitude, longitude: input.longitude };
          if (input.name) value.name = input.name;
          if (input.address) value.address = input.address;
          return { ok: true, value };
        }
        return bad('send_location');
      case 'image':
      case 'document': {
        const wanted = node.expect === 'image' ? ['image'] : ['document', 'image'];
        if (input.kind === 'media' && wanted.includes(input.mediaType)) {
          let fetched: Awaited<ReturnType<EngineContext['fetchMedia']>>;
          try {
            fetched = await this.ctx.fetchMedia(input.mediaId);
          } catch (e) {
            fetched = { ok: false, error: (e as Error).message };
          }
          if (!fetched.ok) return { ok: false, error: 'media_failed', counts: false };
          return { ok: true, value: fetched.ref };
        }
        if (input.kind === 'media' && (input.mediaType === 'audio' || input.mediaType === 'sticker'))
          return { ok: false, unsupported: true };
        if (input.kind === 'unsupported') return { ok: false, unsupported: true };
        return bad(node.expect === 'image' ? 'send_photo' : 'send_document');
      }
    }
  }

  /* ------------------------------------------------------------------------------------------ */

  private sendMessageNode(node: MessageNode): void {
    const text = node.text ? this.text(node.text) : undefined;
    const media = node.media
      ? {
          kind: node.media.kind,
          link: typeof node.media.link === 'string' ? this.fill(node.media.link) : this.text(node.media.link),
          filename: node.media.filename ? this.text(node.media.filename) : undefined,
        }
      : undefined;
    if (node.button) {
      this.send(renderCtaUrl(text ?? '', this.text(node.button.label), this.fill(node.button.url), media));
    } else if (media) {
      this.send(renderMedia(media.kind, media.link, text, media.filename));
    } else if (text) {
      this.say(text);
    }
    if (node.location) {
      const l = node.location;
      this.send(renderLocation(l.latitude, l.longitude, this.optText(l.name), this.optText(l.address)));
    }
  }

  private holds(c: Condition): boolean {
    if ('all' in c) return c.all.every((x) => this.holds(x));
    if ('any' in c) return c.any.some((x) => this.holds(x));
    const v = this.value(c.var);
    const present = v !== undefined && v !== null && v !== '';
    if (c.exists !== undefined && present !== c.exists) return false;
    if (c.eq !== undefined && !same(v, c.eq)) return false;
    if (c.ne !== undefined && same(v, c.ne)) return false;
    if (c.in !== undefined && !c.in.some((x) => same(v, x))) return false;
    if (c.gt !== undefined && !(present && Number(v) > c.gt)) return false;
    if (c.lt !== undefined && !(present && Number(v) < c.lt)) return false;
    return true;
  }

  private value(path: string): unknown {
    if (path === 'contact.name') return this.ctx.contactName;
    if (path === 'session.language') return this.s.language;
    return lookup(this.s.vars, path);
  }

  private fill(text: string): string {
    return interpolate(text, { vars: this.s.vars, contactName: this.ctx.contactName });
  }

  private text(text: Localized): string {
    return this.fill(pick(text, this.s.language, this.flow.languages[0]) ?? '');
  }

  private optText(text: Localized | undefined): string | undefined {
    return text ? this.text(text) || undefined : undefined;
  }

  private builtin(key: BuiltinKey): string {
    return builtin(key, this.s.language, this.flow.languages);
  }

  private say(text: string): void {
    if (text.trim()) this.send(renderText(text));
  }

  private send(message: OutgoingMessage): void {
    this.out.push({ type: 'send', message });
  }
}

function same(a: unknown, b: unknown): boolean {
  if (typeof b === 'number') return a !== null && a !== '' && Number(a) === b;
  if (typeof b === 'boolean') return a === b || String(a) === String(b);
  return a !== undefined && a !== null && String(a) === String(b);
}

const regexCache = new Map<string, RegExp | null>();

/** A flow's pattern, compiled once (null when invalid; validation refuses such flows). */
export function safeRegex(pattern: string): RegExp | null {
  if (!regexCache.has(pattern)) {
    let re: RegExp | null;
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      re = null;
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return regexCache.get(pattern)!;
}
