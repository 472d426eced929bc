/*
 * YAML → FlowDefinition: YAML syntax (duplicate keys refused), then the JSON Schema (shape, no
 * unknown keys). Problems carry a path (`nodes.main.options[1].title`) and, inside a node, its id.
 */
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import { parseDocument } from 'yaml';
import { flowSchema } from './flow.schema';
import type { FlowDefinition, FlowProblem } from './flow.types';
import { validateFlow } from './validate';

export type ParseResult = { ok: true; flow: FlowDefinition } | { ok: false; problems: FlowProblem[] };

/** Largest flow document accepted (a flow is a few kilobytes; this refuses pasted garbage early). */
export const MAX_FLOW_BYTES = 1_000_000;

const ajv = new Ajv2020({ allErrors: true, discriminator: true, strict: false });
const check = ajv.compile<FlowDefinition>(flowSchema);

export function parseFlow(yamlText: string): ParseResult {
  if (Buffer.byteLength(yamlText) > MAX_FLOW_BYTES) {
    return { ok: false, problems: [{ code: 'yaml', message: `the flow is larger than ${MAX_FLOW_BYTES} bytes` }] };
  }
  const doc = parseDocument(yamlText, { uniqueKeys: true });
  if (doc.errors.length) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        code: 'yaml' as const,
        message: `YAML line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`,
      })),
    };
  }
  const data: unknown = doc.toJS({ maxAliasCount: 50 });
  return checkFlow(data);
}

/** The schema check alone, for flows that arrive as JSON (the admin API). */
export function checkFlow(data: unknown): ParseResult {
  if (check(data)) return { ok: true, flow: data };
  return { ok: false, problems: schemaProblems(check.errors ?? []) };
}

/** Parses and validates: a flow that can be published, or every problem. */
export function loadFlow(yamlText: string): ParseResult {
  const parsed = parseFlow(yamlText);
  if (!parsed.ok) return parsed;
  const problems = validateFlow(parsed.flow);
  return problems.length ? { ok: false, problems } : parsed;
}

function schemaProblems(errors: ErrorObject[]): FlowProblem[] {
  const seen = new Set<string>();
  const problems: FlowProblem[] = [];
  // A failed `oneOf` also reports each branch's errors; the branch errors say more.
  const deep = new Set(errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf').map((e) => e.instancePath));
  for (const e of errors) {
    if ((e.keyword === 'oneOf' || e.keyword === 'anyOf') && deep.has(e.instancePath) && !isChoiceOfKeys(e)) continue;
    const segments = e.instancePath.split('/').slice(1).map(unescape);
    const path = segments.reduce((p, s) => (/^\d+$/.test(s) ? `${p}[${s}]` : p ? `${p}.${s}` : s), '');
    const node = segments[0] === 'nodes' && segments[1] ? segments[1] : undefined;
    const message = `${path || '(top)'}: ${describe(e)}`;
    if (seen.has(message)) continue;
    seen.add(message);
    problems.push({ code: 'schema', message: node ? `node ${node}: ${message}` : message, path, ...(node ? { node } : {}) });
  }
  return problems;
}

function isChoiceOfKeys(e: ErrorObject): boolean {
  const branches = (e.schema as { required?: string[] }[] | undefined) ?? [];
  return Array.isArray(branches) && branches.every((b) => b && Array.isArray(b.required) && Object.keys(b).length === 1);
}

function unescape(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown field "${String(p.additionalProperty)}"`;
    case 'required':
      return `missing field "${String(p.missingProperty)}"`;
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'propertyNames':
      return `bad key "${String(p.propertyName)}"`;
    case 'oneOf':
    case 'anyOf': {
      const keys = ((e.schema as { required?: string[] }[]) ?? []).map((b) => b.required?.join('+')).filter(Boolean);
      return keys.length ? `needs exactly one of: ${keys.join(', ')}` : `${e.message}`;
    }
    case 'discriminator':
      return p.error === 'mapping' ? `unknown node type "${String(p.tagValue)}"` : `${e.message}`;
    default:
      return e.message ?? e.keyword;
  }
}
