import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@wa/testing';
import { openBrowser, type TestBrowser } from './support/browser';
import { digits, emiratiMobile, http, messagesTo } from './support/drive';
import { attachStack, type E2EStack } from './support/stack';

/*
 * The agent console in a real browser (Debian's Chromium through playwright-core), through a whole
 * handoff, with the services as processes and the Cloud API sandbox as Meta: a citizen asks for an
 * agent (in Arabic) through the sandbox, the agent signs in with the sandbox's development sign-in
 * and sees the conversation arrive live, replies from the composer, the sandbox records the reply,
 * the agent closes, and the bot answers the citizen's next message. No request may leave the
 * loopback, and the page must run under its Content-Security-Policy without a violation. The main
 * views are saved as screenshots for the README (docs/console/).
 */

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
const SHOTS = join(ROOT, 'docs', 'console');
const IMMIGRATION = 'immigration-dept';

type SandboxMessage = { type: string; payload: Record<string, unknown>; statuses: { status: string }[] };
const textOf = (m: SandboxMessage) => JSON.stringify(m.payload);

let stack: E2EStack;
let web: TestBrowser;
let consoleUrl: string;

beforeAll(async () => {
  // The bundle is built at build time; here only when missing or older than its sources.
  const build = spawnSync(process.execPath, ['services/handoff-router/console/build.mjs', '--if-stale'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`console build failed:\n${build.stderr}`);
  web = await openBrowser();
  stack = attachStack();
  consoleUrl = `${stack.url['handoff-router']}/console/`;
  mkdirSync(SHOTS, { recursive: true });
}, 240_000);

afterAll(async () => {
  await web?.close();
}, 60_000);

afterEach(() => {
  // Nothing left the loopback and the policy held, whatever the test did.
  expect(web.offHost).toEqual([]);
  expect(web.pageErrors).toEqual([]);
});

async function sandboxMessages(phone: string): Promise<SandboxMessage[]> {
  return ((await messagesTo(stack, phone)) ?? []) as SandboxMessage[];
}

describe('the agent console', () => {
  it('is served with a self-only policy, nosniff and cached hashed assets', async () => {
    const page = await fetch(consoleUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self'; script-src 'self'; style-src 'self'/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    const script = /src="(\/console\/console-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(html).not.toMatch(/<style|style=|<script>(?!<)/);
    const asset = await fetch(`${stack.url['handoff-router']}${script}`);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${consoleUrl}..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${consoleUrl}build.json`)).status).toBe(404);
  });

  it('takes a citizen from the sandbox to an agent and back to the bot', async () => {
    const { page } = web;
    const citizen = emiratiMobile();

    // Sign in as a sample agent of the immigration department (sandbox development sign-in).
    await page.goto(consoleUrl);
    const agentButton = page.getByRole('button', { name: /Visas|visas/ }).first();
    await agentButton.waitFor();
    await page.screenshot({ path: join(SHOTS, 'sign-in.png') });
    await agentButton.focus();
    await page.keyboard.press('Enter');
    await page.getByText('Live', { exact: true }).waitFor();

    // The citizen asks for an agent, in Arabic, through the sandbox (Meta's side).
    stack.mark('citizen asks for an agent');
    const asked = await http(`${stack.sandboxUrl}/sandbox/inbound/messages`, {
      method: 'POST',
      body: { tenant: IMMIGRATION, from: citizen, profileName: 'فاطمة الزهراء', type: 'text', text: 'موظف' },
    });
    expect(asked.status).toBe(200);

    // It arrives live: no reload.
    const row = page.locator('.conversations a', { hasText: 'فاطمة الزهراء' });
    await row.waitFor({ timeout: 60_000 });
    stack.mark('the console shows the conversation');
    await page.screenshot({ path: join(SHOTS, 'conversations.png') });
    await row.click();
    const take = page.getByRole('button', { name: 'Take it' });
    if (await take.isVisible()) await take.click();
    const composer = page.getByLabel(/Reply to the citizen/);
    await composer.waitFor();

    // Reply from the keyboard: `/` focuses the composer, Enter sends.
    await page.locator('body').click({ position: { x: 5, y: 790 } });
    await page.keyboard.press('/');
    await page.keyboard.type('مرحباً، أنا من قسم التأشيرات. كيف أساعدك؟');
    await page.keyboard.press('Enter');
    await page.locator('.transcript .line.agent', { hasText: 'قسم التأشيرات' }).waitFor();
    const reply = await waitFor(async () => (await sandboxMessages(citizen)).find((m) => textOf(m).includes('قسم التأشيرات')), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the agent’s reply at the sandbox',
    });
    expect(reply.type).toBe('text');
    stack.mark('the sandbox recorded the reply');
    await page
      .locator('.transcript .line.agent .time', { hasText: /sent|delivered|read/ })
      .first()
      .waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, 'conversation-arabic.png') });

    // Close: the citizen is back with the bot.
    const before = (await sandboxMessages(citizen)).length;
    await page.getByRole('button', { name: 'Close' }).click();
    await page.locator('.conversations a', { hasText: 'فاطمة الزهراء' }).waitFor({ state: 'detached', timeout: 30_000 });
    stack.mark('closed');

    // The citizen writes again and the bot answers.
    await http(`${stack.sandboxUrl}/sandbox/inbound/messages`, {
      method: 'POST',
      body: { tenant: IMMIGRATION, from: citizen, profileName: 'فاطمة الزهراء', type: 'text', text: 'مرحبا' },
    });
    const botAnswer = await waitFor(
      async () => {
        const all = await sandboxMessages(citizen);
        return all.slice(before).find((m) => (!textOf(m).includes('قسم التأشيرات') && m.type !== 'template' ? m : undefined));
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the bot’s answer after the close' },
    );
    expect(botAnswer).toBeDefined();
    stack.mark('the bot answered');
    expect(digits(citizen)).toHaveLength(12);
  });

  it('shows the supervisor queues, waiting times and agent load', async () => {
    const { page } = web;
    await page.goto(`${consoleUrl}#/supervisor`);
    await page.getByRole('heading', { name: 'Queues and agents' }).waitFor();
    await page.locator('.supervisor table').first().waitFor();
    await page.screenshot({ path: join(SHOTS, 'supervisor.png') });
  });
});
