// Injects citizen messages into the running sandbox (which signs and delivers them to the ingress).
//   node -r ./tools/ts-register.cjs sandbox/src/cli.ts send-text --tenant roads-agency --from +573001234567 --text "hola"
//   node -r ./tools/ts-register.cjs sandbox/src/cli.ts help
import { parseCli, USAGE, UsageError, type CliRequest } from './cli-args';

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(message ? 2 : 0);
}

async function call(request: Exclude<CliRequest, { help: true }>): Promise<{ status: number; json: unknown }> {
  let response: Response;
  try {
    response = await fetch(new URL(request.path, request.sandbox), {
      method: request.method,
      headers: request.body === undefined ? {} : { 'content-type': 'application/json' },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
    });
  } catch (error) {
    process.stderr.write(`the sandbox at ${request.sandbox} is not reachable (${(error as Error).message}); is the stack up?\n`);
    process.exit(1);
  }
  return { status: response.status, json: await response.json().catch(() => null) };
}

async function main(): Promise<void> {
  let request: CliRequest;
  try {
    request = parseCli(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) usage(error.message);
    throw error;
  }
  if (request.help) usage();
  const result = await call(request);
  process.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
  const state = (result.json as { delivery?: { state?: string } } | null)?.delivery?.state ?? (result.json as { state?: string })?.state;
  const ok = result.status === 202 || ((result.status === 200 || result.status === 201) && state !== 'failed');
  process.exit(ok ? 0 : 1);
}

void main();
