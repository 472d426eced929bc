/*
 * YAML → FlowDefinition: YAML syntax (duplicate keys refused), then the JSON Schema (shape, no
 * unknown keys). Problems carry a path (`nodes.main.options[1].title`) and, inside a node, its id.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { parseDocument } from 'yaml';
import { flowSchema } from './flow.schema';
import type { FlowDefinition, FlowProblem } from './flow.types';
import { validateFlow } from './validate';

export type ParseResult = { ok: true; flow: FlowDefinition } | { ok: false; problems: FlowProblem[] };

/** Largest flow document accepted (a flow is a few kilobytes; this refuses pasted garbage early). */
export const MAX_FLOW_BYTES = 1_000_000;

let compiled: ValidateFunction<FlowDefinition> | undefined;

/** The schema's validator, compiled on first use (compiling takes a moment; importing should not). */
function check(): ValidateFunction<FlowDefinition> {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, discriminator: true, strict: false, verbose: true });
    compiled = ajv.compile<FlowDefinition>(flowSchema);
  }
  return compiled;
}

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
  const validate = check();
  if (validate(data)) return { ok: true, flow: data };
  return { ok: false, problems: schemaProblems(validate.errors ?? []) };
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
  // A failed `oneOf` also reports each branch's errors. For a choice between keys ("goto or do")
  // the choice says it best; otherwise the branch errors say more.
  const choices = errors
    .filter((e) => (e.keyword === 'oneOf' || e.keyword === 'anyOf') && isChoiceOfKeys(e))
    .map((e) => `${e.schemaPath}/`);
  const deep = new Set(errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf').map((e) => e.instancePath));
  // A value that fits no branch of a `oneOf` (a link that is neither an https URL nor a map of
  // languages): the error of the branch of its own type says more than "must be object".
  const specific = new Set(errors.filter((e) => !['oneOf', 'anyOf', 'type'].includes(e.keyword)).map((e) => e.instancePath));
  for (const e of errors) {
    if (choices.some((c) => e.schemaPath.startsWith(c))) continue;
    if (e.keyword === 'type' && specific.has(e.instancePath)) continue;
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
  return (
    Array.isArray(branches) && branches.length > 0 && branches.every((b) => b && Array.isArray(b.required) && Object.keys(b).length === 1)
  );
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
