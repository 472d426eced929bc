import { createServer, type Server } from 'node:http';
import { Integrations, IntegrationsConfigError, parseIntegrations } from './integrations';

describe('named HTTP integrations', () => {
  let server: Server;
  let base: string;
  const seen: { method?: string; url?: string; headers: Record<string, unknown>; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        const path = req.url ?? '';
        if (path.startsWith('/slow')) return void setTimeout(() => res.end('{}'), 6000);
        if (path.startsWith('/html')) return void res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>');
        if (path.startsWith('/array')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('[1]');
        if (path.startsWith('/broken')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":');
        if (path.startsWith('/down')) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{}');
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ state: 'open', path }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );

  const file = (entries: string) => `tenants:\n  roads-agency:\n${entries}`;
  // Generous timeouts: only /slow (6 s) must miss it, however loaded the machine is.
  const entry = (name: string, path: string, extra = '') => `    ${name}:\n      url: ${base}${path}\n      timeout_ms: 3000\n${extra}`;

  it('fills the URL template, sends the other inputs as the query (GET) or a JSON body (POST), with secret headers', async () => {
    const integrations = new Integrations(
      parseIntegrations(
        file(
          entry(
            'status',
            '/cases/{{reference}}',
            '      headers:\n        x-api-key: env:TEST_KEY\n        authorization: { prefix: "Bearer ", secret: env:TEST_TOKEN }\n',
          ) + entry('create', '/cases', '      method: POST\n'),
        ),
      ),
      { TEST_KEY: 'k-1', TEST_TOKEN: 't-1' },
    );
    expect(await integrations.call('roads-agency', 'status', { reference: 'RD 1/2', lang: 'es' })).toEqual({
      ok: true,
      data: { state: 'open', path: '/cases/RD%201%2F2?lang=es' },
    });
    expect(seen.at(-1)!.headers).toMatchObject({ 'x-api-key': 'k-1', authorization: 'Bearer t-1', accept: 'application/json' });
    expect((await integrations.call('roads-agency', 'create', { kind: 'pothole' })).ok).toBe(true);
    expect(seen.at(-1)).toMatchObject({ method: 'POST', body: '{"kind":"pothole"}' });
  });

  it('answers every failure as ok: false (timeout, non-2xx, not JSON, not an object, unknown, missing secret)', async () => {
    const integrations = new Integrations(
      parseIntegrations(
        file(
          [
            entry('slow', '/slow'),
            entry('html', '/html'),
            entry('array', '/array'),
            entry('broken', '/broken'),
            entry('down', '/down'),
            entry('secret', '/ok', '      headers:\n        x-api-key: env:NOT_SET\n'),
          ].join(''),
        ),
      ),
      {},
    );
    const error = async (name: string) => {
      const r = await integrations.call('roads-agency', name, {});
      return r.ok ? 'ok' : r.error;
    };
    expect(await error('slow')).toMatch(/did not answer within 3000 ms/);
    expect(await error('html')).toMatch(/text\/html, not JSON/);
    expect(await error('array')).toMatch(/not an object/);
    expect(await error('broken')).toMatch(/invalid JSON/);
    expect(await error('down')).toMatch(/answered 503/);
    expect(await error('secret')).toMatch(/env:NOT_SET is not set/);
    expect(await error('nope')).toMatch(/no integration nope/);
    expect((await integrations.call('immigration-dept', 'slow', {})).ok).toBe(false);
  });

  it('refuses a bad file with every problem', () => {
    expect(() =>
      parseIntegrations('tenants:\n  roads-agency:\n    Bad-Name:\n      url: ftp://x\n      method: DELETE\n      timeout_ms: 5\n'),
    ).toThrow(IntegrationsConfigError);
    const problemsOf = (text: string): string[] => {
      try {
        parseIntegrations(text);
        return [];
      } catch (e) {
        return (e as IntegrationsConfigError).problems;
      }
    };
    expect(
      problemsOf(
        'tenants:\n  roads-agency:\n    x:\n      url: ftp://x\n      method: DELETE\n      headers: { a: { secret: "plain" } }\n',
      ),
    ).toEqual([
      'roads-agency.x: url must be an http(s) URL',
      'roads-agency.x: method must be GET, POST or PUT',
      'roads-agency.x: header a: secret must be env:NAME or file:/path',
    ]);
    expect(() => parseIntegrations('nope: 1')).toThrow(/tenants/);
  });
});
