// A terminal chat with a tenant's bot through the running stack, as a citizen on WhatsApp would:
//   npm run chat -- --tenant roads-agency --from +573001234567 [--name "Ana"] [--sandbox URL]
// Lines go in through the sandbox's inbound API (signed webhooks to the ingress); what the platform
// sends back to that number is read from the sandbox's records and shown as it would look.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { inboundSpec, parseInput, photoMimeType, renderMessage, type ChatInput, type ChatOption, type TemplateView } from './chat-render';

const HELP = `Type a message and press Enter. To tap an option, type its number or its title.
  /location LAT LON [name]   share a location         /photo PATH   send a photo (jpg, png, webp)
  /help                      this text                /quit         leave`;

const { values } = parseArgs({
  options: {
    tenant: { type: 'string' },
    from: { type: 'string' },
    name: { type: 'string' },
    sandbox: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n\n`);
  process.stderr.write('usage: npm run chat -- --tenant ID --from +E164 [--name PROFILE_NAME] [--sandbox URL]\n\n' + HELP + '\n');
  process.exit(message ? 2 : 0);
}

if (values.help) usage();
const tenant = values.tenant ?? usage('--tenant is required (e.g. roads-agency or immigration-dept)');
const from = values.from ?? usage('--from is required: the citizen number, e.g. +573001234567');
if (!/^\+?\d{7,15}$/.test(from.replace(/[\s\-()]/g, ''))) usage(`--from ${from} is not a phone number`);
const sandbox = (values.sandbox ?? process.env.SANDBOX_URL ?? 'http://127.0.0.1:3100').replace(/\/+$/, '');
const profileName = values.name ?? 'Sandbox Citizen';

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${sandbox}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: ((await response.json().catch(() => null)) ?? {}) as Record<string, unknown> };
}

let templates: TemplateView[] = [];
let options: ChatOption[] = [];
/** The message the options belong to: a tap answers it (WhatsApp's `context`). */
let optionsOf: string | undefined;
const seen = new Set<string>();
const startedAt = new Date().toISOString();

const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'you › ' });

function print(lines: string[]): void {
  // Clear the prompt line, print, and put the prompt (with what was being typed) back.
  process.stdout.write('\r\x1b[2K');
  for (const line of lines) process.stdout.write(`${line}\n`);
  rl.prompt(true);
}

interface SentRecord {
  wamid: string;
  type: string;
  payload: Record<string, unknown>;
  acceptedAt: string;
}

async function poll(): Promise<void> {
  const query = new URLSearchParams({ to: from, tenant, since: startedAt });
  const { status, json } = await call('GET', `/sandbox/messages?${query}`);
  if (status !== 200) return;
  for (const m of (json.messages ?? []) as SentRecord[]) {
    if (seen.has(m.wamid)) continue;
    seen.add(m.wamid);
    if (m.type === 'template' && templates.length === 0)
      templates = ((await call('GET', '/sandbox/templates')).json.data ?? []) as TemplateView[];
    const rendered = renderMessage(m.payload, { templates, sandboxUrl: sandbox });
    if (rendered.options.length) {
      options = rendered.options;
      optionsOf = m.wamid;
    }
    const time = m.acceptedAt.slice(11, 19);
    print([`bot ${time} ›`, ...rendered.lines.map((l) => `  ${l}`), '']);
  }
}

async function send(input: Exclude<ChatInput, { kind: 'quit' | 'help' | 'error' }>): Promise<void> {
  const base = { tenant, from, profileName };
  let spec: Record<string, unknown>;
  if (input.kind === 'photo') {
    const mimeType = photoMimeType(input.path);
    if (!mimeType) return print([`  (${input.path} is not a jpg, png or webp photo)`]);
    let data: Buffer;
    try {
      data = readFileSync(input.path);
    } catch (error) {
      return print([`  (cannot read ${input.path}: ${(error as Error).message})`]);
    }
    spec = { ...base, type: 'image', media: { mimeType, dataBase64: data.toString('base64'), filename: basename(input.path) } };
  } else {
    spec = inboundSpec(input, base, input.kind === 'pick' ? optionsOf : undefined);
  }
  if (input.kind === 'pick') print([`  → ${input.option.title}`]);
  const { status, json } = await call('POST', '/sandbox/inbound/messages', spec);
  const delivery = (json.delivery ?? {}) as { state?: string; statuses?: number[] };
  if (status !== 200) print([`  (the sandbox refused it: ${String(json.message ?? status)})`]);
  else if (delivery.state !== 'delivered')
    print([
      `  (the ingress did not take it: ${delivery.state ?? '?'}, answers ${JSON.stringify(delivery.statuses ?? [])}; is the stack up?)`,
    ]);
}

async function main(): Promise<void> {
  try {
    await call('GET', '/health');
  } catch (error) {
    process.stderr.write(`the sandbox at ${sandbox} is not reachable (${(error as Error).message}); run npm run stack:up first\n`);
    process.exit(1);
  }
  process.stdout.write(`Chatting with ${tenant} as ${from} (${profileName}) through ${sandbox}.\n${HELP}\n\n`);
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    poll()
      .catch((error: Error) => print([`  (cannot read the sandbox's messages: ${error.message})`]))
      .finally(() => (polling = false));
  }, 400);
  let queue = Promise.resolve();
  rl.on('line', (line) => {
    const input = parseInput(line, options);
    if (!input) return rl.prompt();
    if (input.kind === 'quit') return rl.close();
    if (input.kind === 'help') return print([HELP]);
    if (input.kind === 'error') return print([`  (${input.message})`]);
    // One at a time, in the order typed, as a phone sends them.
    queue = queue.then(() => send(input).catch((error: Error) => print([`  (could not send: ${error.message})`])));
    rl.prompt();
  });
  rl.on('close', () => {
    clearInterval(timer);
    void queue.then(() => process.exit(0));
  });
  rl.prompt();
}

void main();
