import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const WABA = '100000000000001';
const AUTH = { authorization: 'Bearer sandbox-roads-access-token', 'content-type': 'application/json' };

/** The sandbox as the stack runs it (its own process, `sandbox/src/main.ts`), on a given state directory. */
async function startProcess(stateDir: string, extraEnv: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-r', './tools/ts-register.cjs', 'sandbox/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', INGRESS_URL: 'http://127.0.0.1:1', SANDBOX_STATE_DIR: stateDir, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 30000;
  for (;;) {
    const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
    if (match) return { url: match[1], child };
    if (child.exitCode !== null) throw new Error(`sandbox exited (${child.exitCode}): ${output}`);
    if (Date.now() > deadline) throw new Error(`sandbox did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopProcess(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('the sandbox process keeps what Meta keeps', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-process-'));
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map(stopProcess));
    rmSync(dir, { recursive: true, force: true });
  });

  it('an approved template survives a stop and start on the same state directory', async () => {
    const first = await startProcess(dir);
    children.push(first.child);
    const created = await fetch(`${first.url}/v23.0/${WABA}/message_templates`, {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({
        name: 'cita_confirmada',
        language: 'es',
        category: 'UTILITY',
        components: [{ type: 'BODY', text: 'Su cita está confirmada.' }],
      }),
    });
    expect(created.status).toBe(200);
    const approved = async (url: string) =>
      ((await (await fetch(`${url}/sandbox/templates?wabaId=${WABA}`)).json()) as { data: { status: string }[] }).data.some(
        (t) => t.status === 'APPROVED',
      );
    for (const deadline = Date.now() + 10000; !(await approved(first.url)); ) {
      if (Date.now() > deadline) throw new Error('the template was not approved');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await stopProcess(first.child)).toBe(0);

    const second = await startProcess(dir);
    children.push(second.child);
    const sent = await fetch(`${second.url}/v23.0/310000000000001/messages`, {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({
        messaging_product: 'whatsapp',
        to: '+573001234567',
        type: 'template',
        template: { name: 'cita_confirmada', language: { code: 'es' } },
      }),
    });
    expect(sent.status).toBe(200);
    expect(((await sent.json()) as { messages: { message_status: string }[] }).messages[0].message_status).toBe('accepted');
  }, 60000);

  it('refuses a malformed switch instead of guessing', async () => {
    await expect(startProcess(dir, { SANDBOX_ENFORCE_WINDOW: 'nope' })).rejects.toThrow(/SANDBOX_ENFORCE_WINDOW .*must be true or false/);
  }, 30000);
});
