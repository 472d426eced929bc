import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { consoleHeaders } from '../../services/handoff-router/src/console/console-static';
import { openBrowser, type TestBrowser } from './support/browser';

/*
 * The composer once the 24-hour window has closed, in the browser, against a stand-in for the
 * router's API answering in its shapes (docs/handoff.md): a window cannot be aged 24 hours in the
 * whole-stack test. The files are served with the router's own headers (its Content-Security-Policy).
 * Only approved templates in the citizen's language are offered, the template
 * goes out with its parameters, and a free reply is sent as a reply the router holds, which the
 * console says.
 */

jest.setTimeout(60_000);

const ROOT = join(__dirname, '..', '..');
const DIST = join(ROOT, 'dist', 'console');
const now = Date.now();
const conversation = {
  id: 'c-1',
  state: 'assigned',
  department: 'visas',
  language: 'ar',
  reason: 'asked_for_agent',
  agentId: 'fatima.imm',
  citizen: { name: 'مريم العلي', waId: '971501234567', language: 'ar' },
  queuedAt: new Date(now - 26 * 3600e3).toISOString(),
  transcript: [{ id: 'l1', at: new Date(now - 25 * 3600e3).toISOString(), author: 'citizen', kind: 'text', text: 'موظف' }],
  composer: { window: 'closed', closesAt: new Date(now - 3600e3).toISOString(), allowed: ['template'], freeReply: 'hold' },
};
const templates = [
  { name: 'agent_replied', language: 'ar', body: 'ردّ موظف على رسالتك يا {{first_name}}', parameters: 1, parameterNames: ['first_name'] },
  { name: 'agent_replied', language: 'en', body: 'An officer replied, {{first_name}}', parameters: 1, parameterNames: ['first_name'] },
];

let server: Server;
let base: string;
let web: TestBrowser;
const posted: { path: string; body: Record<string, unknown> }[] = [];

beforeAll(async () => {
  const build = spawnSync(process.execPath, ['services/handoff-router/console/build.mjs', '--if-stale'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`console build failed:\n${build.stderr}`);
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname.startsWith('/console/')) {
      const file = url.pathname === '/console/' ? 'index.html' : url.pathname.slice('/console/'.length);
      res.writeHead(200, consoleHeaders(file));
      return void res.end(readFileSync(join(DIST, file)));
    }
    if (req.method === 'POST') {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        posted.push({ path: url.pathname, body });
        if (url.pathname === '/v1/console/dev-sign-in') return json({ token: 'x.eyJzdWIiOiJmYXRpbWEuaW1tIiwicm9sZXMiOlsiYWdlbnQiXX0.x' });
        json({
          id: 'l2',
          at: new Date().toISOString(),
          author: 'agent',
          kind: body.kind,
          status: body.kind === 'text' ? 'held' : 'pending',
        });
      });
      return;
    }
    if (url.pathname === '/v1/stream') return void res.writeHead(200, { 'content-type': 'text/event-stream' }).write(': connected\n\n');
    const routes: Record<string, unknown> = {
      '/v1/console/sign-in': {
        mode: 'sandbox',
        agents: [{ id: 'fatima.imm', name: 'فاطمة الحسن', tenant: 'immigration-dept', roles: ['agent'] }],
      },
      '/v1/agents/me': { id: 'fatima.imm', name: 'فاطمة الحسن', roles: ['agent'] },
      '/v1/conversations': url.searchParams.get('scope') === 'mine' ? [conversation] : [],
      '/v1/conversations/c-1': conversation,
      '/v1/departments': [{ id: 'visas', name: 'Visas', waiting: 0 }],
      '/v1/canned-responses': [],
      '/v1/templates': templates.filter((t) => t.language === url.searchParams.get('language')),
    };
    if (url.pathname in routes) return json(routes[url.pathname]);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"not_found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  web = await openBrowser();
});

afterAll(async () => {
  await web?.close();
  await new Promise((resolve) => server?.close(resolve));
});

it('offers only approved templates in the citizen’s language once the window has closed, and holds a free reply', async () => {
  const { page } = web;
  await page.goto(`${base}/console/`);
  await page.getByRole('button', { name: /فاطمة الحسن/ }).click();
  await page.locator('.conversations a', { hasText: 'مريم العلي' }).click();
  await page.getByText('The 24-hour window is closed: only an approved template can be sent.').waitFor();
  await page.keyboard.press('/');
  const picker = page.getByLabel('Approved template in ar');
  await expect(page.evaluate('document.activeElement.id')).resolves.toBe('template-picker');
  const options = await picker.locator('option').allTextContents();
  expect(options.map((o) => o.trim())).toEqual(['agent_replied — ردّ موظف على رسالتك يا {{first_name}}']);
  await expect(page.getByLabel('first name').inputValue()).resolves.toBe('مريم');
  await page.getByRole('button', { name: 'Send template' }).click();
  await page.getByText('Template sent.').waitFor();
  expect(posted.at(-1)).toMatchObject({
    path: '/v1/conversations/c-1/messages',
    body: { kind: 'template', template: { name: 'agent_replied', language: 'ar', parameters: { first_name: 'مريم' } } },
  });

  await page.getByText('Write a free reply anyway (it is held)').click();
  await page.getByLabel('Held until the citizen writes again').fill('سأرسل لك التفاصيل');
  await page.getByRole('button', { name: 'Hold reply' }).click();
  await page.getByText('Reply held: it goes out when the citizen writes again.').waitFor();
  expect(posted.at(-1)).toMatchObject({ path: '/v1/conversations/c-1/messages', body: { kind: 'text', text: 'سأرسل لك التفاصيل' } });
  expect(web.offHost).toEqual([]);
  expect(web.pageErrors).toEqual([]);
});
