// The sandbox CLI's arguments → the control call it makes (kept apart from cli.ts so it is testable).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import type { InboundMessageSpec } from './inbound/message-builder';

export const USAGE = `usage: cli.ts <command> [options]

commands
  send-text      --text T [--reply-to WAMID]
  send-media     --type image|audio|video|document|sticker [--file PATH] [--mime TYPE] [--caption C] [--voice] [--with-url]
  send-location  --lat N --lng N [--location-name N] [--address A]      (negative coordinates as --lat -33.45)
  send-reply     --kind button_reply|list_reply --id ID [--title T] [--reply-to WAMID]
  send-flow      --json '{"flow_token":"...","field":"..."}' [--reply-to WAMID]
  send-button    --text LABEL [--payload P] [--reply-to WAMID]
  send-reaction  --reply-to WAMID [--emoji E]          (no --emoji: the reaction is removed)
  send           --type TYPE [--json '{...message spec fields...}']   (any type, incl. unknown ones)
  batch          --file SPECS.json [--layout single-change|change-per-message|entry-per-message]
  webhook        --file PAYLOAD.json                  (any envelope, signed and delivered as is)
  delivery       ID                                   (state of a --no-wait delivery)
  open-window    [--at ISO|UNIX_SECONDS]              (the citizen's 24-hour window, without a message)

message options   --tenant ID (or --phone-number-id ID) --from +E164 [--user-id BSUID] [--name PROFILE] [--id WAMID]
delivery options  [--duplicates N] [--retries N] [--backoff-ms N] [--no-wait]
sandbox           --sandbox URL (default $SANDBOX_URL or http://127.0.0.1:3100)

Button and list replies (send-reply) and quick-reply buttons (send-button) answer a message, as
at Meta: without --reply-to they answer the last interactive message (or template, for
send-button) the sandbox accepted for that citizen from that number.`;

const OPTIONS = {
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
  'location-name': { type: 'string' },
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
  at: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export class UsageError extends Error {}

export type CliRequest = { help: true } | { help?: false; sandbox: string; method: 'GET' | 'POST'; path: string; body?: unknown };

/**
 * `--lat -33.45` would read as an option named `-33.45`: a number that starts with a minus and
 * follows an option that takes a value is glued to it (`--lat=-33.45`), so coordinates in the
 * southern and western hemispheres work as typed.
 */
export function joinNegativeNumbers(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const name = /^--([a-z-]+)$/.exec(arg)?.[1];
    const next = argv[i + 1];
    if (name && OPTIONS[name as keyof typeof OPTIONS]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliRequest {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: joinNegativeNumbers(argv), allowPositionals: true, options: OPTIONS });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, argument] = positionals;
  if (!command || command === 'help' || values.help) return { help: true };
  const sandbox = values.sandbox ?? env.SANDBOX_URL ?? 'http://127.0.0.1:3100';

  const required = (name: keyof Values): string => {
    const value = values[name];
    if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
    return value;
  };
  const number = (name: keyof Values): number | undefined => {
    const value = values[name];
    if (value === undefined) return undefined;
    const n = Number(value);
    if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number`);
    return n;
  };
  const delivery = () => ({
    duplicates: number('duplicates'),
    retries: number('retries'),
    initialBackoffMs: number('backoff-ms'),
    wait: values['no-wait'] ? false : undefined,
  });

  switch (command) {
    case 'delivery':
      if (!argument) throw new UsageError('delivery ID');
      return { sandbox, method: 'GET', path: `/sandbox/inbound/deliveries/${encodeURIComponent(argument)}` };
    case 'batch': {
      const messages = JSON.parse(readFileSync(required('file'), 'utf8')) as unknown;
      return { sandbox, method: 'POST', path: '/sandbox/inbound/batch', body: { messages, layout: values.layout, delivery: delivery() } };
    }
    case 'webhook': {
      const payload = JSON.parse(readFileSync(required('file'), 'utf8')) as unknown;
      return {
        sandbox,
        method: 'POST',
        path: '/sandbox/inbound/webhooks',
        body: { tenant: required('tenant'), payload, delivery: delivery() },
      };
    }
    case 'open-window': {
      const at = values.at === undefined ? undefined : /^\d+$/.test(values.at) ? Number(values.at) : values.at;
      return {
        sandbox,
        method: 'POST',
        path: '/sandbox/windows',
        body: { tenant: values.tenant, phoneNumberId: values['phone-number-id'], from: required('from'), at },
      };
    }
    default:
      return {
        sandbox,
        method: 'POST',
        path: '/sandbox/inbound/messages',
        body: { ...messageOf(command, values, required, number), delivery: delivery() },
      };
  }
}

function jsonOption(values: Values): Record<string, unknown> {
  if (!values.json) return {};
  try {
    return JSON.parse(values.json) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`--json is not JSON: ${(error as Error).message}`);
  }
}

function messageOf(
  command: string,
  values: Values,
  required: (name: keyof Values) => string,
  number: (name: keyof Values) => number | undefined,
): InboundMessageSpec {
  const base = (type: string): InboundMessageSpec => ({
    tenant: values.tenant,
    phoneNumberId: values['phone-number-id'],
    from: values.from,
    userId: values['user-id'],
    profileName: values.name,
    id: values.id,
    type,
    context: values['reply-to'] && type !== 'reaction' ? { messageId: values['reply-to'] } : undefined,
  });
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
    case 'send-location': {
      const latitude = number('lat');
      const longitude = number('lng');
      if (latitude === undefined) throw new UsageError('--lat is required');
      if (longitude === undefined) throw new UsageError('--lng is required');
      if (latitude < -90 || latitude > 90) throw new UsageError('--lat must be between -90 and 90');
      if (longitude < -180 || longitude > 180) throw new UsageError('--lng must be between -180 and 180');
      return { ...base('location'), location: { latitude, longitude, name: values['location-name'], address: values.address } };
    }
    case 'send-reply': {
      const kind = required('kind');
      if (kind !== 'button_reply' && kind !== 'list_reply') throw new UsageError('--kind must be button_reply or list_reply');
      return { ...base('interactive'), interactive: { kind, id: required('id'), title: values.title } };
    }
    case 'send-flow':
      return { ...base('interactive'), interactive: { kind: 'nfm_reply', name: 'flow', response: jsonOption(values) } };
    case 'send-button':
      return { ...base('button'), button: { text: required('text'), payload: values.payload } };
    case 'send-reaction':
      return { ...base('reaction'), reaction: { messageId: required('reply-to'), emoji: values.emoji } };
    case 'send':
      return { ...base(required('type')), ...jsonOption(values) } as InboundMessageSpec;
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}
