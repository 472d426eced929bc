/*
 * The flow model: what agencies write in YAML (one file per flow, `services/chatbot/flows/<tenant>/
 * <flow>.yaml` in sandbox mode, or through the admin API), what the engine runs, and what a turn
 * produces. Texts are per language: `{ es: "…", en: "…" }`; the flow's first language is the
 * fallback. `{{name}}` in a text is replaced with a saved value (`{{report.reference}}`), the
 * citizen's profile name (`{{contact.name}}`) or a call's result (`{{status.state}}`).
 *
 * The YAML format is checked by `flow.schema.ts` (JSON Schema, also shipped as `flow.schema.json`
 * for editors) and published only when `validateFlow` finds no problem.
 *
 * Optional fields the engine relies on (a flow without them stays valid):
 * - `TemplateButtonRule.do`: a template button may trigger a global action instead of a goto.
 * - `Condition.var` may also be `contact.name` or `session.language`.
 * - `Session.resume`: the node a language menu opened by a keyword returns to.
 * - `Session.expiresAt`: when an idle session ends (`expire_after`, default 23 h).
 * - `EngineContext.language`: the citizen's known or guessed language for a new session.
 * - `TurnResult.error`: why a turn ended on a broken flow (for the service's logs).
 * - `FlowProblem`: what parsing and validation report.
 */

/** Language code → text (`es`, `en`, `ar`, `fr`, `pt_BR`). */
export type Localized = Record<string, string>;
/** Language code → words or phrases (keywords, FAQ questions). */
export type LocalizedList = Record<string, string[]>;

/** A condition on saved values; `all`/`any` combine them. */
export type Condition =
  | {
      var: string;
      eq?: string | number | boolean;
      ne?: string | number | boolean;
      in?: (string | number)[];
      gt?: number;
      lt?: number;
      exists?: boolean;
    }
  | { all: Condition[] }
  | { any: Condition[] };

/** Where to go next: a node id, or the first branch whose `if` holds (a branch without `if` is the default). */
export type Goto = string | { if?: Condition; goto: string }[];

/** Actions a global keyword or a template button can trigger instead of a goto. */
export type GlobalAction = 'menu' | 'back' | 'agent' | 'language' | 'opt_out' | 'opt_in' | 'restart';

export interface GlobalRule {
  match: LocalizedList;
  do?: GlobalAction;
  goto?: string;
}

/** Quick-reply buttons of templates (payload or label, per language) that enter the flow. */
export interface TemplateButtonRule {
  payloads?: string[];
  labels?: LocalizedList;
  /** A node id, or (instead) `do`. */
  goto?: string;
  do?: GlobalAction;
}

export interface FaqEntry {
  id: string;
  questions: LocalizedList;
  answer: Localized;
  /** Optional next node after answering (default: stay where the citizen was). */
  goto?: string;
}

interface NodeBase {
  /** Optional: evaluated when the node is entered; false skips to `else`. */
  when?: Condition;
  else?: string;
}

export interface MessageNode extends NodeBase {
  type: 'message';
  /** Body, or the caption when `media` is set. */
  text?: Localized;
  media?: { kind: 'image' | 'video' | 'document'; link: string | Localized; filename?: Localized };
  location?: { latitude: number; longitude: number; name?: Localized; address?: Localized };
  /** A CTA URL button under the text (tapping it sends no webhook: put a reference in the URL). */
  button?: { label: Localized; url: string };
  goto?: Goto;
}

export interface MenuOption {
  id: string;
  title: Localized;
  description?: Localized;
  /** An emoji the citizen may send instead (also shown before the title). */
  emoji?: string;
  goto?: Goto;
  /** Or a global action (e.g. `agent`, `language`). */
  do?: GlobalAction;
}

export interface MenuNode extends NodeBase {
  type: 'menu';
  text: Localized;
  /** Label of the list button (needed when there are more than 3 options). */
  button?: Localized;
  header?: Localized;
  footer?: Localized;
  /** 1–10 options: up to 3 become reply buttons, 4–10 a list. */
  options: MenuOption[];
  /** Text that is no option: try the FAQ, re-prompt up to `retries` times, then go to `then`. */
  no_match?: { faq?: boolean; retries?: number; text?: Localized; then?: string };
}

export type AskExpect = 'text' | 'number' | 'date' | 'yes_no' | 'choice' | 'location' | 'image' | 'document';

export interface AskNode extends NodeBase {
  type: 'ask';
  expect: AskExpect;
  text: Localized;
  /** For `choice`: shown like a menu's options. */
  choices?: { id: string; title: Localized }[];
  validate?: { min?: number; max?: number; min_length?: number; max_length?: number; pattern?: string };
  /** Re-prompt after an answer that does not fit (default: a built-in text per language). */
  error?: Localized;
  /** Saved as a dotted path (`report.photo`). */
  save: string;
  retry?: { max: number; then: string };
  /** Words that skip the question (saved as null). */
  skip?: { words: LocalizedList; goto?: string };
  /** No answer within `after` (e.g. `30m`, `2h`): go to `goto`. Must end before the 24 h window. */
  timeout?: { after: string; goto: string };
  goto: Goto;
}

export interface CallNode extends NodeBase {
  type: 'call';
  /** A named HTTP integration of the tenant, configured outside the flow (URL, method, timeout, secrets). */
  integration: string;
  /** Request fields; texts may use `{{…}}`. */
  input?: Record<string, string>;
  /** The answer's JSON object, saved under this path. */
  save: string;
  goto: Goto;
  /** Timeout, non-2xx or an answer that is not a JSON object. */
  on_error: string;
}

export interface CaseNode extends NodeBase {
  type: 'case';
  /** The agency's case kind (`road_problem`). */
  kind: string;
  /** Saved values that make the report. */
  fields: string[];
  /** Prefix of the readable reference (`RD` → `RD-2026-000123`). */
  reference_prefix: string;
  /** Confirmation; `{{case.reference}}` is the new reference. */
  text: Localized;
  goto?: Goto;
}

export interface HandoffNode extends NodeBase {
  type: 'handoff';
  department: string;
  reason?: 'asked_for_agent' | 'repeated_fallback' | 'flow' | 'callcenter' | 'template_button';
  /** Higher is served first (callers moved from the phone queue). */
  priority?: number;
  text?: Localized;
}

export interface LanguageNode extends NodeBase {
  type: 'language';
  /** Prompt of the language menu (each language is shown in its own name). */
  text: Localized;
  goto?: Goto;
}

export interface EndNode extends NodeBase {
  type: 'end';
  text?: Localized;
}

export type FlowNode = MessageNode | MenuNode | AskNode | CallNode | CaseNode | HandoffNode | LanguageNode | EndNode;

export interface FlowDefinition {
  /** Slug, unique per tenant. */
  flow: string;
  /** First = fallback; every text must exist in every language. */
  languages: string[];
  /** Idle time after which the session ends (e.g. `23h`; under the 24 h window). */
  expire_after?: string;
  start: string;
  /** Node id of the main menu (`menu` keyword); default `start`. */
  menu?: string;
  /** Checked on every message before the waiting node. */
  global?: GlobalRule[];
  template_buttons?: TemplateButtonRule[];
  faq?: FaqEntry[];
  /** Fallbacks in a row (no option, no FAQ answer) before offering an agent. */
  max_fallbacks?: number;
  /** Department for the `agent` keyword and repeated fallbacks. */
  default_department?: string;
  nodes: Record<string, FlowNode>;
}

/* ---------------------------------------------------------------------------------------------
 * Running a flow
 * ------------------------------------------------------------------------------------------- */

/** One citizen's position in a flow, stored by the service between turns. */
export interface Session {
  flow: string;
  /** The version the conversation started on; it finishes on it. */
  version: number;
  language: string;
  /** The node waiting for the citizen's answer, or null when nothing is pending. */
  waiting: string | null;
  /** Visited waiting nodes, for `back`. */
  trail: string[];
  vars: Record<string, unknown>;
  /** Re-prompts at the waiting node. */
  retries: number;
  /** Fallbacks in a row. */
  fallbacks: number;
  /** When a waiting ask times out (ISO), if it has a timeout. */
  timeoutAt: string | null;
  /** Whether the citizen has chosen (or confirmed) a language. */
  languageChosen: boolean;
  /** The node a language menu opened by a keyword or option returns to once a language is chosen. */
  resume?: string | null;
  /** When the idle session ends (ISO): a later message starts anew. */
  expiresAt?: string | null;
}

/** What the citizen sent, as the engine sees it. */
export type TurnInput =
  | { kind: 'text'; text: string }
  | { kind: 'reply'; id: string; title: string }
  | { kind: 'template_button'; payload?: string; text: string }
  | { kind: 'location'; latitude: number; longitude: number; name?: string; address?: string }
  | {
      kind: 'media';
      mediaType: 'image' | 'document' | 'video' | 'audio' | 'sticker';
      mediaId: string;
      caption?: string;
      mimeType?: string;
      filename?: string;
    }
  | { kind: 'unsupported'; type: string }
  | { kind: 'timeout' }
  /** First message of a new session (no text to interpret): start the flow. */
  | { kind: 'start' };

/** A message to send, as the Cloud API's content for its kind (see `@wa/conversation` ReplyContent). */
export interface OutgoingMessage {
  kind: 'text' | 'interactive' | 'image' | 'document' | 'video' | 'location';
  content: Record<string, unknown>;
}

/** What a turn asks the service to do, in order, in one transaction with the session. */
export type TurnOutput =
  | { type: 'send'; message: OutgoingMessage }
  | { type: 'consent'; state: 'opted_in' | 'opted_out'; keyword: string }
  | { type: 'case'; kind: string; reference: string; fields: Record<string, unknown> }
  | { type: 'handoff'; department: string; reason: string; priority: number; language: string }
  | { type: 'language'; language: string };

/** Effects that need an answer before the turn can go on; the service implements them. */
export interface EngineContext {
  tenantId: string;
  now: Date;
  contactName?: string;
  /** The citizen's language for a new session: saved earlier or `guessLanguage`'s; default the flow's first. */
  language?: string;
  /** Calls the tenant's named integration; never throws (errors come back as `ok: false`). */
  call(
    integration: string,
    input: Record<string, string>,
  ): Promise<{ ok: true; data: Record<string, unknown> } | { ok: false; error: string }>;
  /** The next readable case reference for the prefix (`RD-2026-000123`). */
  nextCaseReference(prefix: string): Promise<string>;
  /** Downloads a citizen's media at once (ids expire); the stored reference is saved, or an error. */
  fetchMedia(mediaId: string): Promise<{ ok: true; ref: string } | { ok: false; error: string }>;
}

export interface TurnResult {
  session: Session;
  outputs: TurnOutput[];
  /** The session ended (end node, handoff, opt-out): the next message starts anew. */
  ended: boolean;
  /** Set when the flow itself failed (a loop, a branch with no way on): the citizen got an apology; log it. */
  error?: string;
}

/** One reason a flow cannot be parsed or published. */
export interface FlowProblem {
  code:
    | 'yaml'
    | 'schema'
    | 'unresolved_goto'
    | 'unreachable'
    | 'dead_end'
    | 'missing_translation'
    | 'unknown_language'
    | 'too_long'
    | 'too_many_options'
    | 'too_few_options'
    | 'duplicate_id'
    | 'bad_pattern'
    | 'bad_duration'
    | 'missing_field'
    | 'faq_unmatched'
    | 'keyword_conflict'
    | 'unknown_value'
    | 'bad_link';
  /** Readable, with node and language: `node menu (ar): button title "…" has 23 characters; WhatsApp allows 20`. */
  message: string;
  node?: string;
  language?: string;
  /** Where in the document (`nodes.menu.options[1].title.es`). */
  path?: string;
}
