import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@wa/testing';
import { cuttableProxy, openBrowser, type CuttableProxy, type TestBrowser } from './support/browser';
import { digits, emiratiMobile, http, messagesTo } from './support/drive';
import { attachStack, type E2EStack } from './support/stack';

/*
 * The agent console in a real browser (Debian's Chromium through playwright-core), through a whole
 * handoff, with the services as processes and the Cloud API sandbox as Meta: a citizen asks for an
 * agent (in Arabic) through the sandbox, the agent signs in with the sandbox's development sign-in
 * and sees the conversation arrive live, replies from the composer, the sandbox records the reply,
 * the agent closes, and the bot answers the citizen's next message. No request may leave the
 * loopback, and the page must run under its Content-Security-Policy without a violation. The main
 * views are saved as screenshots: beside the run's logs, or for the README (docs/console/) with
 * UPDATE_SCREENSHOTS=1.
 */

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
// The README's screenshots are rewritten only when asked (UPDATE_SCREENSHOTS=1): every run's
// differ (times, numbers), and a test run leaves the working tree as it found it.
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
let SHOTS: string;
const IMMIGRATION = 'immigration-dept';

type SandboxMessage = { type: string; payload: Record<string, unknown>; statuses: { status: string }[] };
const textOf = (m: SandboxMessage) => JSON.stringify(m.payload);

let stack: E2EStack;
let web: TestBrowser;
let proxy: CuttableProxy;
let consoleUrl: string;

beforeAll(async () => {
  // The bundle is built at build time; here only when missing or older than its sources.
  const build = spawnSync(process.execPath, ['services/handoff-router/console/build.mjs', '--if-stale'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`console build failed:\n${build.stderr}`);
  web = await openBrowser();
  stack = attachStack();
  // The browser reaches the router through a proxy the test can cut (the reconnect below).
  proxy = await cuttableProxy(stack.url['handoff-router']);
  consoleUrl = `${proxy.url}/console/`;
  SHOTS = UPDATE_SCREENSHOTS ? join(ROOT, 'docs', 'console') : stack.logDir;
  mkdirSync(SHOTS, { recursive: true });
}, 240_000);

afterAll(async () => {
  await web?.close();
  await proxy?.close();
}, 60_000);

afterEach(async () => {
  // What the page showed last, beside the services' logs: the first thing to look at when a step fails.
  await web.page
    .screenshot({ path: join(stack.logDir, `${expect.getState().currentTestName?.replace(/\W+/g, '-')}.png`) })
    .catch(() => undefined);
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
    const asset = await fetch(`${proxy.url}${script}`);
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
    const agentButton = page.getByRole('button', { name: /فاطمة الحسن/ });
    await agentButton.waitFor();
    await page.screenshot({ path: join(SHOTS, 'sign-in.png') });
    await agentButton.focus();
    await page.keyboard.press('Enter');
    await page.getByText('Live', { exact: true }).waitFor();

    // The citizen asks for an agent, in Arabic, through the sandbox (Meta's side).
    stack.mark('citizen asks for an agent');
    const asked = await http(`${stack.sandboxUrl}/sandbox/inbound/messages`, {
      method: 'POST',
      body: { tenant: IMMIGRATION, from: citizen, profileName: 'مريم العلي', type: 'text', text: 'موظف' },
    });
    expect(asked.status).toBe(200);

    // It arrives live: no reload.
    const row = page.locator('.conversations a', { hasText: 'مريم العلي' });
    await row.waitFor({ timeout: 60_000 });
    stack.mark('the console shows the conversation');
    // From the keyboard: j selects the first conversation, Enter opens it.
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'مريم العلي' }).waitFor();
    // The router assigns it to the online agent; if it is still queued when opened, take it.
    const take = page.getByRole('button', { name: 'Take it' });
    const composer = page.getByLabel(/Reply to the citizen/);
    await take.or(composer).first().waitFor({ timeout: 30_000 });
    if (await take.isVisible()) await take.click();
    await composer.waitFor({ timeout: 30_000 });

    // Reply from the keyboard: `/` focuses the composer, Enter sends.
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

    // Meta refuses the next reply: the agent reads why, in words, with Meta's code.
    const injected = await http(`${stack.sandboxUrl}/sandbox/messages/errors`, {
      method: 'POST',
      body: { code: 131051, recipient: digits(citizen), times: 1, mode: 'sync' },
    });
    expect(injected.status).toBeLessThan(300);
    await page.keyboard.press('Escape');
    await page.keyboard.press('/');
    await page.keyboard.type('هل يمكنك إرسال رقم الطلب؟');
    await page.keyboard.press('Enter');
    await page
      .locator('.transcript .line.agent', { hasText: 'رقم الطلب' })
      .locator('.delivery', { hasText: '131051' })
      .waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(SHOTS, 'conversation-arabic.png') });

    // Away: the agent keeps her conversation but gets no new one; the next citizen waits in the
    // queue, and the list shows how long.
    await page.getByLabel('Presence').selectOption('away');
    const second = emiratiMobile();
    await http(`${stack.sandboxUrl}/sandbox/inbound/messages`, {
      method: 'POST',
      body: { tenant: IMMIGRATION, from: second, profileName: 'John Carter', type: 'text', text: 'agent' },
    });
    await page.keyboard.press('Escape');
    await page.keyboard.press('i');
    const waiting = page.locator('.conversations a', { hasText: 'John Carter' });
    await waiting.filter({ hasText: /waiting \d+ s/ }).waitFor({ timeout: 60_000 });
    await page.locator('table.queues tr', { hasText: 'Visas' }).filter({ hasText: /\b1\b/ }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, 'conversations.png') });
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'مريم العلي' }).waitFor();

    // The connection drops: the console says so, and a message the citizen sends meanwhile is
    // there once it is back (the stream resumes from Last-Event-ID, the lists reload).
    proxy.cut();
    await page.getByText(/Connection lost, reconnecting/).waitFor({ timeout: 60_000 });
    stack.mark('connection cut');
    const meanwhile = await http(`${stack.sandboxUrl}/sandbox/inbound/messages`, {
      method: 'POST',
      body: { tenant: IMMIGRATION, from: citizen, profileName: 'مريم العلي', type: 'text', text: 'شكراً، أنتظر ردك' },
    });
    expect(meanwhile.status).toBe(200);
    // The router has it before the console can hear of it: the console learns it from the replay.
    const conversationId = decodeURIComponent(new URL(page.url()).hash.replace(/^#\/c\//, ''));
    const supervisor = await http(`${stack.url['handoff-router']}/v1/console/dev-sign-in`, {
      method: 'POST',
      body: { agentId: 'layla.imm', tenantId: IMMIGRATION },
    });
    await waitFor(
      async () => {
        const { body } = await http(`${stack.url['handoff-router']}/v1/conversations/${conversationId}`, {
          token: supervisor.body.token as string,
        });
        return JSON.stringify(body.transcript ?? []).includes('أنتظر ردك') || undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the message at the router while the console is cut off' },
    );
    proxy.restore();
    await page.getByText('Live', { exact: true }).waitFor({ timeout: 60_000 });
    await page.locator('.transcript .line.citizen', { hasText: 'أنتظر ردك' }).waitFor({ timeout: 60_000 });
    expect(proxy.heads.some((head) => /^GET \/v1\/stream/.test(head) && /\r\nlast-event-id: \S+/i.test(head))).toBe(true);
    stack.mark('reconnected');

    // Close: the router asks the citizen to rate the conversation; the answer ends the handoff.
    await page.getByRole('button', { name: 'Close' }).click();
    await row.filter({ hasText: 'closed, rating asked' }).waitFor({ timeout: 30_000 });
    stack.mark('closed');
    const afterClose = (await sandboxMessages(citizen)).length;
    await http(`${stack.sandboxUrl}/sandbox/inbound/messages`, {
      method: 'POST',
      body: { tenant: IMMIGRATION, from: citizen, profileName: 'مريم العلي', type: 'text', text: '5' },
    });
    await page.locator('.conversations a', { hasText: 'مريم العلي' }).waitFor({ state: 'detached', timeout: 60_000 });
    await waitFor(async () => (await sandboxMessages(citizen)).length > afterClose || undefined, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the survey’s thanks at the sandbox',
    });
    stack.mark('rated');

    // The citizen writes again: the bot answers.
    const before = (await sandboxMessages(citizen)).length;
    await http(`${stack.sandboxUrl}/sandbox/inbound/messages`, {
      method: 'POST',
      body: { tenant: IMMIGRATION, from: citizen, profileName: 'مريم العلي', type: 'text', text: 'مرحبا' },
    });
    const botAnswer = await waitFor(async () => (await sandboxMessages(citizen)).slice(before)[0], {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the bot’s answer after the handoff',
    });
    expect(['text', 'interactive']).toContain(botAnswer.type);
    stack.mark('the bot answered');
  });

  it('shows the supervisor queues, waiting times and agent load', async () => {
    const { page } = web;
    // A supervisor of the same agency: sign out, sign in as one.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: /Layla Mansour/ }).click();
    await page.getByRole('link', { name: 'Supervisor' }).click();
    await page.getByRole('heading', { name: 'Queues and agents' }).waitFor();
    await page.locator('.supervisor table').first().waitFor();
    await page.screenshot({ path: join(SHOTS, 'supervisor.png') });
  });
});
