// Injects citizen messages into the running sandbox (which signs and delivers them to the ingress).
//   node -r ./tools/ts-register.cjs sandbox/src/cli.ts send-text --tenant roads-agency --from +573001234567 --text "hola"
//   node -r ./tools/ts-register.cjs sandbox/src/cli.ts help
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import type { InboundMessageSpec } from './inbound/message-builder';

const USAGE = `usage: cli.ts <command> [options]

commands
  send-text      --text T [--reply-to WAMID]
  send-media     --type image|audio|video|document|sticker [--file PATH] [--mime TYPE] [--caption C] [--voice] [--with-url]
  send-location  --lat N --lng N [--name N] [--address A]
  send-reply     --kind button_reply|list_reply --id ID [--title T] [--reply-to WAMID]
  send-flow      --json '{"flow_token":"...","field":"..."}' [--reply-to WAMID]
  send-button    --text LABEL [--payload P] [--reply-to WAMID]
  send-reaction  --reply-to WAMID [--emoji E]          (no --emoji: the reaction is removed)
  send           --type TYPE [--json '{...message spec fields...}']   (any type, incl. unknown ones)
  batch          --file SPECS.json [--layout single-change|change-per-message|entry-per-message]
  webhook        --file PAYLOAD.json                  (any envelope, signed and delivered as is)
  delivery       ID                                   (state of a --no-wait delivery)

message options   --tenant ID (or --phone-number-id ID) --from +E164 [--user-id BSUID] [--name PROFILE] [--id WAMID]
delivery options  [--duplicates N] [--retries N] [--backoff-ms N] [--no-wait]
sandbox           --sandbox URL (default $SANDBOX_URL or http://127.0.0.1:3100)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    sandbox: { type: 'string' },
    tenant: { type: 'string' },
    'phone-number-id': { type: 'string' },
    from: { type: 'string' },
    'user-id': { type: 'string' },
    name: { type: 'string' },
    id: { type: 'string' },
    text: { type: 'string' },
    type: { type: 'string' },
    file: { type: 'string' },
    mime: { type: 'string' },
    caption: { type: 'string' },
    voice: { type: 'boolean' },
    'with-url': { type: 'boolean' },
    lat: { type: 'string' },
    lng: { type: 'string' },
    address: { type: 'string' },
    kind: { type: 'string' },
    title: { type: 'string' },
    payload: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    emoji: { type: 'string' },
    'reply-to': { type: 'string' },
    json: { type: 'string' },
    layout: { type: 'string' },
    duplicates: { type: 'string' },
    retries: { type: 'string' },
    'backoff-ms': { type: 'string' },
    'no-wait': { type: 'boolean' },
  },
});

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(message ? 2 : 0);
}

function required(name: keyof typeof values): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') usage(`--${name} is required`);
  return value;
}

function number(name: keyof typeof values): number | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) usage(`--${name} must be a number`);
  return n;
}

function jsonOption(): Record<string, unknown> {
  if (!values.json) return {};
  try {
    return JSON.parse(values.json) as Record<string, unknown>;
  } catch (error) {
    usage(`--json is not JSON: ${(error as Error).message}`);
  }
}

function base(type: string): InboundMessageSpec {
  return {
    tenant: values.tenant,
    phoneNumberId: values['phone-number-id'],
    from: values.from,
    userId: values['user-id'],
    profileName: values.name,
    id: values.id,
    type,
    context: values['reply-to'] && type !== 'reaction' ? { messageId: values['reply-to'] } : undefined,
  };
}

function delivery() {
  return {
    duplicates: number('duplicates'),
    retries: number('retries'),
    initialBackoffMs: number('backoff-ms'),
    wait: values['no-wait'] ? false : undefined,
  };
}

function messageOf(command: string): InboundMessageSpec {
  switch (command) {
    case 'send-text':
      return { ...base('text'), text: required('text') };
    case 'send-media': {
      const type = required('type');
      return {
        ...base(type),
        media: {
          mimeType: values.mime,
          caption: values.caption,
          filename: values.file ? basename(values.file) : undefined,
          voice: values.voice,
          includeUrl: values['with-url'],
          dataBase64: values.file ? readFileSync(values.file).toString('base64') : undefined,
        },
      };
    }
    case 'send-location':
      return {
        ...base('location'),
        location: {
          latitude: number('lat') ?? usage('--lat is required'),
          longitude: number('lng') ?? usage('--lng is required'),
          name: values.name,
          address: values.address,
        },
      };
    case 'send-reply':
      return {
        ...base('interactive'),
        interactive: { kind: required('kind') as 'button_reply' | 'list_reply', id: required('id'), title: values.title },
      };
    case 'send-flow':
      return { ...base('interactive'), interactive: { kind: 'nfm_reply', name: 'flow', response: jsonOption() } };
    case 'send-button':
      return { ...base('button'), button: { text: required('text'), payload: values.payload } };
    case 'send-reaction':
      return { ...base('reaction'), reaction: { messageId: required('reply-to'), emoji: values.emoji } };
    case 'send':
      return { ...base(required('type')), ...jsonOption() } as InboundMessageSpec;
    default:
      usage(`unknown command ${command}`);
  }
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const sandbox = values.sandbox ?? process.env.SANDBOX_URL ?? 'http://127.0.0.1:3100';
  let response: Response;
  try {
    response = await fetch(new URL(path, sandbox), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    process.stderr.write(`the sandbox at ${sandbox} is not reachable (${(error as Error).message}); is the stack up?\n`);
    process.exit(1);
  }
  return { status: response.status, json: await response.json().catch(() => null) };
}

async function main(): Promise<void> {
  const [command, argument] = positionals;
  if (!command || command === 'help' || values.help) usage();
  let result: { status: number; json: unknown };
  if (command === 'delivery') {
    result = await call('GET', `/sandbox/inbound/deliveries/${encodeURIComponent(argument ?? usage('delivery ID'))}`);
  } else if (command === 'batch') {
    const messages = JSON.parse(readFileSync(required('file'), 'utf8')) as unknown;
    result = await call('POST', '/sandbox/inbound/batch', { messages, layout: values.layout, delivery: delivery() });
  } else if (command === 'webhook') {
    const payload = JSON.parse(readFileSync(required('file'), 'utf8')) as unknown;
    result = await call('POST', '/sandbox/inbound/webhooks', { tenant: required('tenant'), payload, delivery: delivery() });
  } else {
    result = await call('POST', '/sandbox/inbound/messages', { ...messageOf(command), delivery: delivery() });
  }
  process.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
  const state = (result.json as { delivery?: { state?: string } } | null)?.delivery?.state ?? (result.json as { state?: string })?.state;
  const ok = result.status === 202 || (result.status === 200 && state !== 'failed');
  process.exit(ok ? 0 : 1);
}

void main();
