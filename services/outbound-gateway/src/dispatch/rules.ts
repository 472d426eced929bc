import type { OutboundFailureReason, OutboundRequestV1, TemplateCatalogEntryV1, TemplateRef } from '@wa/contracts';
import { isWindowOpen, windowClosesAt } from '@wa/conversation';
import { renderForSend } from '../templates/template-renderer';

/** A free-form send must reach Meta before the window closes: it goes only if still open this much later. */
export const WINDOW_SAFETY_MS = 30000;

export type Decision =
  | { do: 'send'; template?: Record<string, unknown>; sentTemplate?: string; usedFallback: boolean }
  | { do: 'fail'; reason: OutboundFailureReason; detail: string }
  | { do: 'defer'; ms: number; why: string };

export interface ConsentRecord {
  category: string;
  state: string;
  occurredAt: Date;
}

export interface RuleInputs {
  request: OutboundRequestV1;
  /** When the request was recorded (graces count from here). */
  createdAt: Date;
  now: Date;
  /** The citizen's last inbound message to this business number, if any. */
  lastInboundAt?: Date;
  /** The citizen's consent records for this tenant. */
  consent: ConsentRecord[];
  catalog(name: string, language: string): TemplateCatalogEntryV1 | undefined;
  /** Meta answered 131047 to an earlier try: treat the window as closed whatever our record says. */
  forceFallback: boolean;
  windowGraceMs: number;
  catalogGraceMs: number;
}

/** The platform's window rule (`@wa/conversation`), asked for the moment the send reaches Meta. */
export function windowOpenForSend(lastInboundAt: Date | undefined, now: Date): boolean {
  return isWindowOpen(lastInboundAt, new Date(now.getTime() + WINDOW_SAFETY_MS));
}

/**
 * Whether the citizen opted out of a template category. The newest record among the category and
 * `all` decides, so "opt out of everything, then back in to utility" sends utility again.
 */
export function optedOut(consent: ConsentRecord[], templateCategory: string): boolean {
  const category = templateCategory.toLowerCase();
  const relevant = consent.filter((c) => c.category === 'all' || c.category === category);
  if (relevant.length === 0) return false;
  const newest = relevant.reduce((a, b) => (b.occurredAt.getTime() > a.occurredAt.getTime() ? b : a));
  return newest.state === 'opted_out';
}

function templateDecision(inputs: RuleInputs, ref: TemplateRef, usedFallback: boolean, windowIsOpen: boolean): Decision {
  const entry = inputs.catalog(ref.name, ref.language);
  const label = `${ref.name} (${ref.language})`;
  if (!entry) {
    // The registry may have just approved it and the catalog record not be here yet.
    if (inputs.now.getTime() - inputs.createdAt.getTime() < inputs.catalogGraceMs)
      return { do: 'defer', ms: 1000, why: `waiting for ${label} in the template catalog` };
    return { do: 'fail', reason: 'template-not-approved', detail: `template ${label} is not in the catalog` };
  }
  if (entry.status !== 'APPROVED')
    return { do: 'fail', reason: 'template-not-approved', detail: `template ${label} is ${entry.status}, not APPROVED` };
  // Replies to a citizen who just wrote are allowed; business-initiated templates respect opt-outs.
  const isReply = inputs.request.priority === 'reply' && windowIsOpen;
  if (!isReply && optedOut(inputs.consent, entry.category)) {
    return { do: 'fail', reason: 'opted-out', detail: `the citizen opted out of ${entry.category.toLowerCase()} messages` };
  }
  const rendered = renderForSend(entry, ref);
  if (!rendered.ok) return { do: 'fail', reason: 'template-params', detail: rendered.errors.join('; ').slice(0, 2000) };
  return { do: 'send', template: rendered.template, sentTemplate: `${ref.name}:${ref.language}`, usedFallback };
}

/**
 * What the gateway does with a request right now, under WhatsApp's rules: the window for free-form
 * messages (or the fallback template), consent for business-initiated templates, and the catalog
 * for every template. Pure: the caller loads the inputs for a whole batch at once.
 */
export function decide(inputs: RuleInputs): Decision {
  const { request, now } = inputs;
  if (request.expiresAt && Date.parse(request.expiresAt) <= now.getTime()) {
    return { do: 'fail', reason: 'expired', detail: `expired at ${request.expiresAt}` };
  }
  if (request.kind === 'mark_read') return { do: 'send', usedFallback: false };
  const open = windowOpenForSend(inputs.lastInboundAt, now);
  if (request.kind === 'template') return templateDecision(inputs, request.template!, false, open);

  if (open && !inputs.forceFallback) return { do: 'send', usedFallback: false };
  const age = now.getTime() - inputs.createdAt.getTime();
  if (!inputs.forceFallback && request.priority === 'reply' && age < inputs.windowGraceMs) {
    // A reply can overtake the inbound message that opened the window (another topic, another consumer).
    return { do: 'defer', ms: 1000, why: 'window looks closed; the inbound message may not be recorded yet' };
  }
  if (request.fallbackTemplate) return templateDecision(inputs, request.fallbackTemplate, true, false);
  if (inputs.forceFallback)
    return { do: 'fail', reason: 'window-closed-by-meta', detail: 'Meta reports the customer service window closed (131047)' };
  const closedAt = windowClosesAt(inputs.lastInboundAt);
  const detail = closedAt
    ? `the citizen last wrote ${Math.round((now.getTime() - inputs.lastInboundAt!.getTime()) / 3600000)} h ago (the window closed at ${closedAt.toISOString()}); free-form messages need a message in the last 24 h`
    : 'the citizen has not written to this number; free-form messages need a message in the last 24 h';
  return { do: 'fail', reason: 'window-closed', detail };
}
