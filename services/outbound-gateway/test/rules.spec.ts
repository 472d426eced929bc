import type { OutboundRequestV1, TemplateCatalogEntryV1 } from '@wa/contracts';
import { decide, optedOut, WINDOW_SAFETY_MS, windowOpenForSend, type RuleInputs } from '../src/dispatch/rules';

const NOW = new Date('2026-03-01T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3600000);

const entry: TemplateCatalogEntryV1 = {
  tenantId: 'roads-agency',
  name: 'licence_expiry',
  language: 'es',
  category: 'UTILITY',
  status: 'APPROVED',
  parameterFormat: 'named',
  parameters: [{ component: 'body', name: 'first_name', type: 'text', required: true }],
  components: [{ type: 'BODY', text: 'Hola {{first_name}}, su licencia vence pronto.' }],
  version: 1,
  updatedAt: NOW.toISOString(),
};

function inputs(request: Partial<OutboundRequestV1>, extra: Partial<RuleInputs> = {}): RuleInputs {
  return {
    request: {
      tenantId: 'roads-agency',
      requestId: 'r',
      to: { waId: '573001112233' },
      kind: 'text',
      priority: 'reply',
      requestedBy: 't',
      ...request,
    } as OutboundRequestV1,
    createdAt: hoursAgo(1),
    now: NOW,
    consent: [],
    catalog: (name, language) => (name === entry.name && language === entry.language ? entry : undefined),
    forceFallback: false,
    windowGraceMs: 10000,
    catalogGraceMs: 10000,
    ...extra,
  };
}

describe('sending rules', () => {
  it('opens the window for 24 h after the last inbound message (with a safety margin)', () => {
    expect(windowOpenForSend(hoursAgo(23.9), NOW)).toBe(true);
    expect(windowOpenForSend(hoursAgo(24), NOW)).toBe(false);
    expect(windowOpenForSend(new Date(NOW.getTime() - 24 * 3600000 + 10000), NOW)).toBe(false); // within the last 30 s
    expect(windowOpenForSend(new Date(NOW.getTime() - 24 * 3600000 + WINDOW_SAFETY_MS), NOW)).toBe(false);
    expect(windowOpenForSend(new Date(NOW.getTime() - 24 * 3600000 + WINDOW_SAFETY_MS + 1), NOW)).toBe(true);
    expect(windowOpenForSend(undefined, NOW)).toBe(false);
  });

  it('sends free-form inside the window, fails it outside, or sends the fallback template', () => {
    const text = { kind: 'text' as const, content: { body: 'hola' } };
    expect(decide(inputs(text, { lastInboundAt: hoursAgo(2) }))).toEqual({ do: 'send', usedFallback: false });
    expect(decide(inputs(text, { lastInboundAt: hoursAgo(30) }))).toMatchObject({
      do: 'fail',
      reason: 'window-closed',
      detail: expect.stringMatching(/30 h ago/),
    });
    const fallback = decide(
      inputs(
        { ...text, fallbackTemplate: { name: 'licence_expiry', language: 'es', parameters: { first_name: 'Ana' } } },
        { lastInboundAt: hoursAgo(30) },
      ),
    );
    expect(fallback).toMatchObject({
      do: 'send',
      usedFallback: true,
      sentTemplate: 'licence_expiry:es',
      template: { name: 'licence_expiry', language: { code: 'es' } },
    });
  });

  it('gives a young reply a short grace for the inbound message to be recorded', () => {
    const young = inputs({ kind: 'text', content: { body: 'hola' } }, { createdAt: new Date(NOW.getTime() - 2000) });
    expect(decide(young)).toMatchObject({ do: 'defer' });
    expect(decide({ ...young, request: { ...young.request, priority: 'bulk' } })).toMatchObject({ do: 'fail', reason: 'window-closed' });
  });

  it('after Meta said 131047, uses the fallback or fails even if our window record says open', () => {
    const base = { kind: 'text' as const, content: { body: 'hola' } };
    expect(decide(inputs(base, { lastInboundAt: hoursAgo(1), forceFallback: true }))).toMatchObject({
      do: 'fail',
      reason: 'window-closed-by-meta',
    });
    expect(
      decide(
        inputs(
          { ...base, fallbackTemplate: { name: 'licence_expiry', language: 'es', parameters: { first_name: 'Ana' } } },
          { lastInboundAt: hoursAgo(1), forceFallback: true },
        ),
      ),
    ).toMatchObject({ do: 'send', usedFallback: true });
  });

  it('respects opt-outs for business-initiated templates but lets replies through', () => {
    const template = {
      kind: 'template' as const,
      priority: 'notification' as const,
      template: { name: 'licence_expiry', language: 'es', parameters: { first_name: 'Ana' } },
    };
    const out = [{ category: 'utility', state: 'opted_out', occurredAt: hoursAgo(5) }];
    expect(decide(inputs(template, { consent: out }))).toMatchObject({ do: 'fail', reason: 'opted-out' });
    expect(decide(inputs({ ...template, priority: 'reply' }, { consent: out, lastInboundAt: hoursAgo(1) }))).toMatchObject({ do: 'send' });
    expect(decide(inputs({ ...template, priority: 'reply' }, { consent: out }))).toMatchObject({ do: 'fail', reason: 'opted-out' }); // no window: not a reply
  });

  it('lets the newest consent record decide, across the category and "all"', () => {
    expect(optedOut([{ category: 'all', state: 'opted_out', occurredAt: hoursAgo(5) }], 'UTILITY')).toBe(true);
    expect(
      optedOut(
        [
          { category: 'all', state: 'opted_out', occurredAt: hoursAgo(5) },
          { category: 'utility', state: 'opted_in', occurredAt: hoursAgo(1) },
        ],
        'UTILITY',
      ),
    ).toBe(false);
    expect(optedOut([{ category: 'marketing', state: 'opted_out', occurredAt: hoursAgo(1) }], 'UTILITY')).toBe(false);
  });

  it('checks the catalog and the parameters before any call', () => {
    const ref = (parameters: Record<string, string>, name = 'licence_expiry') => ({
      kind: 'template' as const,
      priority: 'bulk' as const,
      template: { name, language: 'es', parameters },
    });
    expect(decide(inputs(ref({ first_name: 'Ana' })))).toMatchObject({ do: 'send', sentTemplate: 'licence_expiry:es' });
    expect(decide(inputs(ref({})))).toMatchObject({ do: 'fail', reason: 'template-params', detail: expect.stringMatching(/first_name/) });
    expect(decide(inputs(ref({ first_name: 'Ana', extra: 'x' })))).toMatchObject({
      do: 'fail',
      reason: 'template-params',
      detail: expect.stringMatching(/extra/),
    });
    expect(decide(inputs(ref({ first_name: 'Ana' }, 'unknown')))).toMatchObject({ do: 'fail', reason: 'template-not-approved' });
    expect(decide(inputs(ref({ first_name: 'Ana' }, 'unknown'), { createdAt: new Date(NOW.getTime() - 1000) }))).toMatchObject({
      do: 'defer',
    });
    const paused = { ...entry, status: 'PAUSED' };
    expect(decide(inputs(ref({ first_name: 'Ana' }), { catalog: () => paused }))).toMatchObject({
      do: 'fail',
      reason: 'template-not-approved',
      detail: expect.stringMatching(/PAUSED/),
    });
  });

  it('never sends an expired request; mark-as-read needs no window', () => {
    expect(
      decide(inputs({ kind: 'text', content: { body: 'x' }, expiresAt: hoursAgo(1).toISOString() }, { lastInboundAt: hoursAgo(1) })),
    ).toMatchObject({ do: 'fail', reason: 'expired' });
    expect(decide(inputs({ kind: 'mark_read', content: { message_id: 'wamid.X' } }))).toEqual({ do: 'send', usedFallback: false });
  });
});
