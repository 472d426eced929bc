import { scanPlaceholders } from '@wa/templates';
import type { DeliveryResult } from '../webhook-sender';
import type { SandboxContext } from '../sandbox-context';

export interface SandboxTemplate {
  id: string;
  wabaId: string;
  name: string;
  language: string;
  category: string;
  parameterFormat: 'named' | 'positional';
  status: string;
  components: Record<string, unknown>[];
  qualityScore: string;
  reason?: string;
  createdAt: string;
  updatedAt: string;
}

/** How the simulated review ends for templates matching the rule (most recent matching rule wins). */
export interface ReviewRule {
  wabaId?: string;
  name?: string;
  language?: string;
  outcome: 'APPROVED' | 'REJECTED';
  /** REJECTED: Meta's reason code (INVALID_FORMAT, PROMOTIONAL, …). */
  reason?: string;
  rejectionInfo?: { reason: string; recommendation?: string };
  /** Meta sometimes approves under another category. */
  category?: string;
  /** Time from create/edit to the webhook; default 50 ms. */
  delayMs?: number;
}

export interface WebhookRecord {
  wabaId: string;
  field: string;
  value: Record<string, unknown>;
  result?: DeliveryResult;
}

export type SendCheck =
  | { ok: true; template: SandboxTemplate }
  | { ok: false; httpStatus: number; error: { code: number; title: string; message: string; details: string } };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The simulator's template state (what Meta keeps per WABA) and the check a template send must
 * pass — the same checks Meta makes (132001 missing translation, 132000 parameter count, 132012
 * parameter format, 132015 paused, 132016 disabled). The messages part of the sandbox calls
 * `sandboxTemplates(context).checkSend(...)`.
 */
export class SandboxTemplateStore {
  readonly templates = new Map<string, SandboxTemplate>();
  readonly rules: ReviewRule[] = [];
  readonly webhooks: WebhookRecord[] = [];
  private nextId = 1790000000000001n;
  private readonly pending = new Set<Promise<unknown>>();
  /** Called after every change Meta would remember (the sandbox's state file writes itself soon after). */
  onChange: () => void = () => undefined;

  newId(): string {
    return String(this.nextId++);
  }

  /** What a restarted sandbox needs: the templates with their ids and statuses, the next id, the review rules. */
  dump(): { nextId: string; templates: SandboxTemplate[]; rules: ReviewRule[] } {
    return { nextId: String(this.nextId), templates: [...this.templates.values()], rules: this.rules };
  }

  restore(data: unknown): SandboxTemplate[] {
    if (!isObj(data) || typeof data.nextId !== 'string' || !/^\d+$/.test(data.nextId) || !Array.isArray(data.templates))
      throw new Error('templates: expected { nextId, templates, rules }');
    const templates = data.templates as SandboxTemplate[];
    for (const t of templates) {
      if (
        !isObj(t) ||
        typeof t.id !== 'string' ||
        typeof t.wabaId !== 'string' ||
        typeof t.name !== 'string' ||
        typeof t.status !== 'string'
      )
        throw new Error('templates: a template lacks id, wabaId, name or status');
    }
    for (const t of templates) this.templates.set(t.id, t);
    if (Array.isArray(data.rules)) this.rules.push(...(data.rules as ReviewRule[]));
    const next = BigInt(data.nextId);
    if (next > this.nextId) this.nextId = next;
    return templates;
  }

  find(wabaId: string, name: string, language: string): SandboxTemplate | undefined {
    return [...this.templates.values()].find((t) => t.wabaId === wabaId && t.name === name && t.language === language);
  }

  ofWaba(wabaId: string): SandboxTemplate[] {
    return [...this.templates.values()].filter((t) => t.wabaId === wabaId).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }

  ruleFor(t: SandboxTemplate): ReviewRule {
    const match = [...this.rules]
      .reverse()
      .find((r) => (!r.wabaId || r.wabaId === t.wabaId) && (!r.name || r.name === t.name) && (!r.language || r.language === t.language));
    return match ?? { outcome: 'APPROVED' };
  }

  /** Keeps background work (delayed reviews, deliveries) awaitable by tests. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise)).catch(() => undefined);
    return promise;
  }

  async settle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /** Would Meta accept this `template` object of a `/messages` request from a number of this WABA? */
  checkSend(wabaId: string, template: unknown): SendCheck {
    const fail = (code: number, title: string, details: string, httpStatus = 400): SendCheck => ({
      ok: false,
      httpStatus,
      error: { code, title, message: `(#${code}) ${title}`, details },
    });
    if (!isObj(template) || typeof template.name !== 'string' || !isObj(template.language) || typeof template.language.code !== 'string') {
      return fail(100, 'Invalid parameter', 'template needs name and language.code');
    }
    const stored = this.find(wabaId, template.name, template.language.code);
    if (!stored) {
      // Meta's wording, whether the name is unknown or only this language is.
      return fail(
        132001,
        'Template name does not exist in the translation',
        `template name (${template.name}) does not exist in ${template.language.code}`,
        404,
      );
    }
    if (stored.status === 'PAUSED') return fail(132015, 'Template is Paused', `${stored.name} (${stored.language}) is paused`);
    if (stored.status === 'DISABLED') return fail(132016, 'Template is Disabled', `${stored.name} (${stored.language}) is disabled`);
    // A template not (yet) approved does not exist for sending, in Meta's words too.
    if (stored.status !== 'APPROVED')
      return fail(
        132001,
        'Template name does not exist in the translation',
        `template name (${stored.name}) does not exist in ${stored.language}`,
        404,
      );

    const sent = template.components === undefined ? [] : template.components;
    if (!Array.isArray(sent) || !sent.every(isObj)) return fail(100, 'Invalid parameter', 'components must be an array of objects');
    const named = stored.parameterFormat === 'named';
    const header = stored.components.find((c) => c.type === 'HEADER');
    const body = stored.components.find((c) => c.type === 'BODY');
    const buttons = (stored.components.find((c) => c.type === 'BUTTONS')?.buttons as Obj[] | undefined) ?? [];
    const varsOf = (text: unknown) => scanPlaceholders(String(text ?? '')).placeholders.map((p) => p.raw);

    for (const c of sent) {
      if (!['header', 'body', 'button'].includes(String(c.type)))
        return fail(132012, 'Parameter format does not match format in the created template', `unknown component type ${String(c.type)}`);
    }
    const sentHeader = sent.filter((c) => c.type === 'header');
    const sentBody = sent.filter((c) => c.type === 'body');
    if (sentHeader.length > 1 || sentBody.length > 1)
      return fail(132012, 'Parameter format does not match format in the created template', 'a component type is repeated');

    // Header
    const headerParams = (sentHeader[0]?.parameters as Obj[] | undefined) ?? [];
    const format = String(header?.format ?? '');
    if (!header || format === 'TEXT') {
      const expected = header ? varsOf(header.text) : [];
      if (headerParams.length !== expected.length)
        return fail(
          132000,
          'Number of parameters does not match the expected number of params',
          localizableParams('header', headerParams.length, expected.length),
        );
      const problem = textParams(headerParams, expected, named, 'header');
      if (problem) return fail(132012, 'Parameter format does not match format in the created template', problem);
    } else {
      if (headerParams.length !== 1)
        return fail(
          132000,
          'Number of parameters does not match the expected number of params',
          localizableParams('header', headerParams.length, 1),
        );
      const p = headerParams[0];
      const kind = format.toLowerCase();
      if (p.type !== kind || !isObj(p[kind]))
        return fail(132012, 'Parameter format does not match format in the created template', `header: expected a ${kind} parameter`);
      const media = p[kind] as Obj;
      if (kind !== 'location' && Boolean(media.id) === Boolean(media.link))
        return fail(131008, 'Required parameter is missing', `header ${kind} needs id or link`);
    }

    // Body
    const expectedBody = varsOf(body?.text);
    const bodyParams = (sentBody[0]?.parameters as Obj[] | undefined) ?? [];
    if (bodyParams.length !== expectedBody.length)
      return fail(
        132000,
        'Number of parameters does not match the expected number of params',
        localizableParams('body', bodyParams.length, expectedBody.length),
      );
    const bodyProblem = textParams(
      bodyParams,
      named
        ? expectedBody
        : expectedBody
            .map(Number)
            .sort((a, b) => a - b)
            .map(String),
      named,
      'body',
    );
    if (bodyProblem) return fail(132012, 'Parameter format does not match format in the created template', bodyProblem);

    // Buttons
    const sentButtons = sent.filter((c) => c.type === 'button');
    const seenIndexes = new Set<number>();
    for (const b of sentButtons) {
      const index = Number(b.index);
      if (typeof b.index !== 'string' || !Number.isInteger(index) || !buttons[index])
        return fail(131009, 'Parameter value is not valid', `button index ${String(b.index)} does not exist`);
      if (seenIndexes.has(index)) return fail(131009, 'Parameter value is not valid', `button ${index} is given twice`);
      seenIndexes.add(index);
      const stored = buttons[index];
      const params = (b.parameters as Obj[] | undefined) ?? [];
      if (stored.type === 'URL' && b.sub_type === 'url') {
        if (varsOf(stored.url).length === 0)
          return fail(132000, 'Number of parameters does not match the expected number of params', `button ${index} has a fixed URL`);
        if (params.length !== 1 || params[0].type !== 'text' || typeof params[0].text !== 'string')
          return fail(
            132012,
            'Parameter format does not match format in the created template',
            `button ${index}: one text parameter (the URL suffix)`,
          );
      } else if (stored.type === 'QUICK_REPLY' && b.sub_type === 'quick_reply') {
        if (params.length !== 1 || params[0].type !== 'payload' || typeof params[0].payload !== 'string')
          return fail(132012, 'Parameter format does not match format in the created template', `button ${index}: one payload parameter`);
      } else if (stored.type === 'COPY_CODE' && b.sub_type === 'copy_code') {
        if (params.length !== 1 || params[0].type !== 'coupon_code')
          return fail(
            132012,
            'Parameter format does not match format in the created template',
            `button ${index}: one coupon_code parameter`,
          );
      } else {
        return fail(
          132012,
          'Parameter format does not match format in the created template',
          `button ${index} is ${String(stored.type)}, not ${String(b.sub_type)}`,
        );
      }
    }
    const missingUrl = buttons.findIndex((b, i) => b.type === 'URL' && varsOf(b.url).length > 0 && !seenIndexes.has(i));
    if (missingUrl >= 0)
      return fail(
        132000,
        'Number of parameters does not match the expected number of params',
        `button ${missingUrl}: the URL suffix is missing`,
      );
    return { ok: true, template: stored };
  }
}

/** Meta's details for 132000, e.g. "body: number of localizable_params (0) does not match the expected number of params (1)". */
function localizableParams(component: string, received: number, expected: number): string {
  return `${component}: number of localizable_params (${received}) does not match the expected number of params (${expected})`;
}

/** Text parameters in order; named ones by parameter_name. Null when fine. */
function textParams(params: Obj[], expected: string[], named: boolean, where: string): string | null {
  for (const [i, p] of params.entries()) {
    if (p.type !== 'text' || typeof p.text !== 'string' || p.text.trim() === '')
      return `${where} parameter ${i + 1} must be non-empty text`;
    if (/[\n\t]| {5,}/.test(p.text)) return `${where} parameter ${i + 1} has new lines, tabs or more than 4 consecutive spaces`;
    if (named && p.parameter_name !== expected[i] && !expected.includes(String(p.parameter_name)))
      return `${where}: unknown parameter_name ${String(p.parameter_name)}`;
    if (!named && p.parameter_name !== undefined) return `${where}: positional templates take no parameter_name`;
  }
  if (named) {
    const names = new Set(params.map((p) => p.parameter_name));
    const missing = expected.filter((n) => !names.has(n));
    if (missing.length) return `${where}: missing ${missing.join(', ')}`;
  }
  return null;
}

const stores = new WeakMap<SandboxContext, SandboxTemplateStore>();

/** The template store of one sandbox instance (shared by the templates and messages parts). */
export function sandboxTemplates(context: SandboxContext): SandboxTemplateStore {
  let store = stores.get(context);
  if (!store) {
    store = new SandboxTemplateStore();
    stores.set(context, store);
  }
  return store;
}
