/*
 * JSON Schema (draft 2020-12) of a flow's YAML: the shape only (types, required fields, no unknown
 * keys). What needs the whole flow (gotos, reachability, translations, WhatsApp's limits) is
 * `validateFlow`'s. `flow.schema.json` is this object written out for editors
 * (`# yaml-language-server: $schema=…`); a unit test keeps the two equal, and rewrites the file:
 * `WRITE_FLOW_SCHEMA=1 npx jest --selectProjects unit --testPathPatterns services/chatbot/src/flows/parse`.
 */

const LANG = '^[a-z]{2,3}(_[A-Z]{2})?$';
const ID = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$';
const DURATION = '^(\\d+[smhd])+$';
const PATH = '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$';

const localized = { $ref: '#/$defs/localized' };
const localizedList = { $ref: '#/$defs/localizedList' };
const goto = { $ref: '#/$defs/goto' };
const nodeId = { type: 'string', pattern: ID };
const action = { enum: ['menu', 'back', 'agent', 'language', 'opt_out', 'opt_in', 'restart'] };

function node(type: string, properties: Record<string, unknown>, required: string[]) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['type', ...required],
    properties: { type: { const: type }, when: { $ref: '#/$defs/condition' }, else: nodeId, ...properties },
  };
}

export const flowSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'Chatbot flow',
  type: 'object',
  additionalProperties: false,
  required: ['flow', 'languages', 'start', 'nodes'],
  properties: {
    flow: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' },
    languages: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', pattern: LANG } },
    expire_after: { type: 'string', pattern: DURATION },
    start: nodeId,
    menu: nodeId,
    global: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['match'],
        properties: { match: localizedList, do: action, goto: nodeId },
        oneOf: [{ required: ['do'] }, { required: ['goto'] }],
      },
    },
    template_buttons: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          payloads: { type: 'array', items: { type: 'string', minLength: 1 } },
          labels: localizedList,
          goto: nodeId,
          do: action,
        },
        oneOf: [{ required: ['do'] }, { required: ['goto'] }],
        anyOf: [{ required: ['payloads'] }, { required: ['labels'] }],
      },
    },
    faq: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'questions', 'answer'],
        properties: { id: nodeId, questions: localizedList, answer: localized, goto: nodeId },
      },
    },
    max_fallbacks: { type: 'integer', minimum: 1, maximum: 20 },
    default_department: { type: 'string', minLength: 1 },
    nodes: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: ID },
      additionalProperties: { $ref: '#/$defs/node' },
    },
  },
  $defs: {
    localized: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: LANG },
      additionalProperties: { type: 'string' },
    },
    localizedList: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: LANG },
      additionalProperties: { type: 'array', items: { type: 'string', minLength: 1 } },
    },
    scalar: { type: ['string', 'number', 'boolean'] },
    condition: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['var'],
          minProperties: 2,
          properties: {
            var: { type: 'string', pattern: PATH },
            eq: { $ref: '#/$defs/scalar' },
            ne: { $ref: '#/$defs/scalar' },
            in: { type: 'array', items: { type: ['string', 'number'] } },
            gt: { type: 'number' },
            lt: { type: 'number' },
            exists: { type: 'boolean' },
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['all'],
          properties: { all: { type: 'array', minItems: 1, items: { $ref: '#/$defs/condition' } } },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['any'],
          properties: { any: { type: 'array', minItems: 1, items: { $ref: '#/$defs/condition' } } },
        },
      ],
    },
    goto: {
      oneOf: [
        nodeId,
        {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['goto'],
            properties: { if: { $ref: '#/$defs/condition' }, goto: nodeId },
          },
        },
      ],
    },
    node: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['message', 'menu', 'ask', 'call', 'case', 'handoff', 'language', 'end'] } },
      discriminator: { propertyName: 'type' },
      oneOf: [
        node(
          'message',
          {
            text: localized,
            media: {
              type: 'object',
              additionalProperties: false,
              required: ['kind', 'link'],
              properties: {
                kind: { enum: ['image', 'video', 'document'] },
                link: { oneOf: [{ type: 'string', pattern: '^https://' }, localized] },
                filename: localized,
              },
            },
            location: {
              type: 'object',
              additionalProperties: false,
              required: ['latitude', 'longitude'],
              properties: {
                latitude: { type: 'number', minimum: -90, maximum: 90 },
                longitude: { type: 'number', minimum: -180, maximum: 180 },
                name: localized,
                address: localized,
              },
            },
            button: {
              type: 'object',
              additionalProperties: false,
              required: ['label', 'url'],
              properties: { label: localized, url: { type: 'string', pattern: '^https?://' } },
            },
            goto,
          },
          [],
        ),
        node(
          'menu',
          {
            text: localized,
            button: localized,
            header: localized,
            footer: localized,
            options: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['id', 'title'],
                properties: {
                  id: { type: 'string', minLength: 1 },
                  title: localized,
                  description: localized,
                  emoji: { type: 'string', minLength: 1, maxLength: 16 },
                  goto,
                  do: action,
                },
                oneOf: [{ required: ['goto'] }, { required: ['do'] }],
              },
            },
            no_match: {
              type: 'object',
              additionalProperties: false,
              properties: {
                faq: { type: 'boolean' },
                retries: { type: 'integer', minimum: 0, maximum: 10 },
                text: localized,
                then: nodeId,
              },
            },
          },
          ['text', 'options'],
        ),
        node(
          'ask',
          {
            expect: { enum: ['text', 'number', 'date', 'yes_no', 'choice', 'location', 'image', 'document'] },
            text: localized,
            choices: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['id', 'title'],
                properties: { id: { type: 'string', minLength: 1 }, title: localized },
              },
            },
            validate: {
              type: 'object',
              additionalProperties: false,
              properties: {
                min: { type: 'number' },
                max: { type: 'number' },
                min_length: { type: 'integer', minimum: 0 },
                max_length: { type: 'integer', minimum: 1 },
                pattern: { type: 'string', minLength: 1 },
              },
            },
            error: localized,
            save: { type: 'string', pattern: PATH },
            retry: {
              type: 'object',
              additionalProperties: false,
              required: ['max', 'then'],
              properties: { max: { type: 'integer', minimum: 0, maximum: 10 }, then: nodeId },
            },
            skip: {
              type: 'object',
              additionalProperties: false,
              required: ['words'],
              properties: { words: localizedList, goto: nodeId },
            },
            timeout: {
              type: 'object',
              additionalProperties: false,
              required: ['after', 'goto'],
              properties: { after: { type: 'string', pattern: DURATION }, goto: nodeId },
            },
            goto,
          },
          ['expect', 'text', 'save', 'goto'],
        ),
        node(
          'call',
          {
            integration: { type: 'string', minLength: 1 },
            input: { type: 'object', additionalProperties: { type: 'string' } },
            save: { type: 'string', pattern: PATH },
            goto,
            on_error: nodeId,
          },
          ['integration', 'save', 'goto', 'on_error'],
        ),
        node(
          'case',
          {
            kind: { type: 'string', minLength: 1 },
            fields: { type: 'array', items: { type: 'string', pattern: PATH } },
            reference_prefix: { type: 'string', pattern: '^[A-Z0-9]{1,8}$' },
            text: localized,
            goto,
          },
          ['kind', 'fields', 'reference_prefix', 'text'],
        ),
        node(
          'handoff',
          {
            department: { type: 'string', minLength: 1 },
            reason: { enum: ['asked_for_agent', 'repeated_fallback', 'flow', 'callcenter', 'template_button'] },
            priority: { type: 'integer', minimum: 0, maximum: 100 },
            text: localized,
          },
          ['department'],
        ),
        node('language', { text: localized, goto }, ['text']),
        node('end', { text: localized }, []),
      ],
    },
  },
} as const;
