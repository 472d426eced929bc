import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flowSchema } from './flow.schema';
import { checkFlow, loadFlow, parseFlow } from './parse';
import { fixtureYaml } from './testing';

const minimal = `
flow: tiny
languages: [es]
start: hi
nodes:
  hi:
    type: end
    text: { es: Hola }
`;

function problems(yaml: string): string[] {
  const r = parseFlow(yaml);
  return r.ok ? [] : r.problems.map((p) => p.message);
}

describe('parseFlow', () => {
  it('reads the fixture and a minimal flow', () => {
    expect(parseFlow(fixtureYaml()).ok).toBe(true);
    const r = parseFlow(minimal);
    expect(r.ok && r.flow.nodes.hi).toEqual({ type: 'end', text: { es: 'Hola' } });
  });

  it('reports YAML syntax errors with the line', () => {
    expect(problems('flow: x\nlanguages: [es\nstart: a')).toEqual([expect.stringMatching(/^YAML line \d+: /)]);
  });

  it('refuses duplicate keys (a second node with the same id would silently replace the first)', () => {
    const yaml = `${minimal}  hi:\n    type: end\n`;
    expect(problems(yaml)).toEqual([expect.stringMatching(/^YAML line 9: Map keys must be unique/)]);
  });

  it.each<[string, string, string[]]>([
    ['a missing top-level field', minimal.replace('start: hi\n', ''), ['(top): missing field "start"']],
    [
      'an unknown field in a node',
      minimal.replace('type: end', 'type: end\n    colour: red'),
      ['node hi: nodes.hi: unknown field "colour"'],
    ],
    [
      'an unknown node type',
      minimal.replace('type: end', 'type: jump'),
      ['node hi: nodes.hi.type: must be one of message, menu, ask, call, case, handoff, language, end'],
    ],
    [
      'a field of another node type',
      minimal.replace('type: end', 'type: end\n    options: []'),
      ['node hi: nodes.hi: unknown field "options"'],
    ],
    [
      'a bad language code',
      minimal.replace('languages: [es]', 'languages: [Spanish]'),
      ['languages[0]: must match pattern "^[a-z]{2,3}(_[A-Z]{2})?$"'],
    ],
    ['a text that is no map of languages', minimal.replace('text: { es: Hola }', 'text: Hola'), ['node hi: nodes.hi.text: must be object']],
    [
      'a menu option with neither goto nor do',
      `
flow: tiny
languages: [es]
start: m
nodes:
  m:
    type: menu
    text: { es: Elija }
    options:
      - { id: a, title: { es: A } }
`,
      ['node m: nodes.m.options[0]: needs exactly one of: goto, do'],
    ],
    [
      'an ask without save, with a bad duration',
      `
flow: tiny
languages: [es]
start: q
nodes:
  q:
    type: ask
    expect: text
    text: { es: Nombre }
    timeout: { after: soon, goto: q }
    goto: q
`,
      ['node q: nodes.q: missing field "save"', 'node q: nodes.q.timeout.after: must match pattern "^(\\d+[smhd])+$"'],
    ],
    [
      'a non-https media link',
      minimal.replace(
        'type: end\n    text: { es: Hola }',
        'type: message\n    media: { kind: image, link: "http://x/y.png" }\n    goto: hi',
      ),
      ['node hi: nodes.hi.media.link: must match pattern "^https://"'],
    ],
  ])('reports %s with its path', (_, yaml, expected) => {
    expect(problems(yaml)).toEqual(expect.arrayContaining(expected));
  });

  it('gives problems a path and, inside a node, the node id', () => {
    const r = parseFlow(minimal.replace('type: end', 'type: end\n    colour: red'));
    expect(r.ok ? [] : r.problems).toEqual([
      { code: 'schema', message: 'node hi: nodes.hi: unknown field "colour"', path: 'nodes.hi', node: 'hi' },
    ]);
  });

  it('refuses a document that is not a map', () => {
    expect(problems('- a\n- b')).toEqual(['(top): must be object']);
  });

  it('checkFlow takes JSON (the admin API)', () => {
    expect(checkFlow({ flow: 'x', languages: ['es'], start: 'a', nodes: { a: { type: 'end' } } }).ok).toBe(true);
    expect(checkFlow(null).ok).toBe(false);
  });

  it('loadFlow parses and validates', () => {
    const r = loadFlow(minimal.replace('start: hi', 'start: nowhere'));
    expect(r.ok ? [] : r.problems.map((p) => p.code)).toEqual(['unresolved_goto', 'unreachable']);
    expect(loadFlow(minimal).ok).toBe(true);
  });
});

describe('flow.schema.json', () => {
  it('is the schema object written out (WRITE_FLOW_SCHEMA=1 rewrites it)', () => {
    const path = join(__dirname, 'flow.schema.json');
    if (process.env.WRITE_FLOW_SCHEMA === '1') writeFileSync(path, `${JSON.stringify(flowSchema, null, 2)}\n`);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(JSON.parse(JSON.stringify(flowSchema)));
  });
});
