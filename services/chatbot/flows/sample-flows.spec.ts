/*
 * The guard on the shipped sample flows: each parses and validates with no problem, speaks every
 * language its tenant serves (every text present in each), and routes every quick reply of the
 * starter templates, labelled exactly as the templates are.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { collectTexts, formatProblems, loadFlow, type FlowDefinition } from '../src/flows';

const root = join(__dirname, '../../..');
const tenants = (
  parse(readFileSync(join(root, 'config/tenants.sandbox.yaml'), 'utf8')) as { tenants: { id: string; languages: string[] }[] }
).tenants;
const starter = join(root, 'services/template-registry/starter');

/** Quick-reply labels of the starter templates, per language. */
function starterLabels(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const file of readdirSync(starter).filter((f) => f.endsWith('.json'))) {
    const template = JSON.parse(readFileSync(join(starter, file), 'utf8')) as {
      translations: Record<string, { components: { type: string; buttons?: { type: string; text: string }[] }[] }>;
    };
    for (const [language, translation] of Object.entries(template.translations)) {
      for (const component of translation.components.filter((c) => c.type === 'BUTTONS')) {
        for (const button of component.buttons ?? []) if (button.type === 'QUICK_REPLY') (out[language] ??= []).push(button.text);
      }
    }
  }
  return out;
}

/** Quick replies that other parts of the platform answer, not the bot (the agent's reply after the window). */
const NOT_FOR_THE_BOT = new Set(['agent_replied']);
const botLabels = (): Record<string, string[]> => {
  const notForBot: Record<string, string[]> = {};
  for (const name of NOT_FOR_THE_BOT) {
    const template = JSON.parse(readFileSync(join(starter, `${name}.json`), 'utf8')) as {
      translations: Record<string, { components: { type: string; buttons?: { text: string }[] }[] }>;
    };
    for (const [language, t] of Object.entries(template.translations))
      for (const c of t.components) for (const b of c.buttons ?? []) (notForBot[language] ??= []).push(b.text);
  }
  return Object.fromEntries(Object.entries(starterLabels()).map(([l, labels]) => [l, labels.filter((x) => !notForBot[l]?.includes(x))]));
};

const SAMPLES: Record<string, { file: string; routesPayment: boolean }> = {
  'roads-agency': { file: 'roads-agency/main.yaml', routesPayment: true },
  'immigration-dept': { file: 'immigration-dept/main.yaml', routesPayment: false },
};

describe.each(Object.entries(SAMPLES))('sample flow of %s', (tenantId, sample) => {
  const result = loadFlow(readFileSync(join(__dirname, sample.file), 'utf8'));
  const flow = (result.ok ? result.flow : undefined) as FlowDefinition;

  it('parses and validates with no problem', () => {
    expect(result.ok ? '' : formatProblems(result.problems)).toBe('');
  });

  it("speaks the tenant's languages, its default first, with every text in each", () => {
    const tenant = tenants.find((t) => t.id === tenantId)!;
    expect(flow.languages[0]).toBe(tenant.languages[0]);
    expect([...flow.languages].sort()).toEqual([...tenant.languages].sort());
    const missing = collectTexts(flow).flatMap((entry) =>
      flow.languages
        .filter((l) => {
          const text = (entry.texts as Record<string, unknown>)[l];
          return Array.isArray(text) ? text.length === 0 : typeof text !== 'string' || text.trim() === '';
        })
        .map((l) => `${entry.key} (${l})`),
    );
    expect(missing).toEqual([]);
  });

  it("routes the starter templates' quick replies, labelled exactly as the templates are", () => {
    const routed = (flow.template_buttons ?? []).flatMap((rule) =>
      Object.entries(rule.labels ?? {}).flatMap(([l, labels]) => labels.map((x) => `${l}:${x}`)),
    );
    const expected = Object.entries(botLabels()).flatMap(([l, labels]) =>
      labels.filter((x) => sample.routesPayment || !/pag|pay|دفع|payer/i.test(x)).map((x) => `${l}:${x}`),
    );
    expect(expected.filter((label) => !routed.includes(label))).toEqual([]);
    // A label the templates do not have is a typo that never matches.
    expect(
      routed.filter((label) => !Object.entries(starterLabels()).some(([l, labels]) => labels.some((x) => `${l}:${x}` === label))),
    ).toEqual([]);
  });
});
