import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@wa/testing';
import { runTracedFixture, SpanKinds, type SpanLine } from './fixtures/traced-process';

const { SERVER } = SpanKinds;

/**
 * A service whose hot route traces itself (the webhook) turns the HTTP instrumentation's incoming
 * side off; every other request must still get one server span that continues the caller's trace
 * and parents what the handler does.
 */
describe('route spans (HTTP instrumentation off for incoming requests)', () => {
  let db: TestDatabase;
  let spans: SpanLine[];
  let statuses: Record<string, number>;
  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');

  beforeAll(async () => {
    db = await createTestDatabase(['routespans']);
    const run = await runTracedFixture('route-spans.ts', {
      DATABASE_URL: db.appUrl('routespans'),
      TRACE_SELF_TRACED_PATH: '/hot/',
      TRACE_PARENT: `00-${traceId}-${callerSpanId}-01`,
    });
    spans = run.spans;
    const lines = run.lines;
    statuses = Object.fromEntries(
      lines.filter((l) => l.startsWith('STATUS ')).map((l) => [l.split(' ')[1], Number(l.split(' ')[2])] as [string, number]),
    );
  });

  afterAll(async () => {
    await db?.drop();
  });

  const server = (name: string) => spans.filter((s) => s.kind === SERVER && s.name === name);
  const query = (marker: string) => spans.find((s) => JSON.stringify(s.attributes).includes(marker));

  it('answers as before', () => {
    expect(statuses).toEqual({ '/items/42?q=secret': 200, '/items': 201, '/hot/1': 200, '/fails': 500, '/nowhere': 404 });
  });

  it('gives a request one server span, named by route, continuing the caller’s trace', () => {
    const [span] = server('GET /items/:id');
    expect(server('GET /items/:id')).toHaveLength(1);
    expect(span).toMatchObject({ traceId, parent: callerSpanId, scope: '@wa/service-kit' });
    expect(span.attributes).toMatchObject({ 'http.route': '/items/:id', 'url.path': '/items/42', 'http.response.status_code': 200 });
    // Only route spans: the instrumentation's incoming side is off.
    expect(spans.filter((s) => s.kind === SERVER).every((s) => s.scope === '@wa/service-kit')).toBe(true);
  });

  it('keeps the handler’s work in the request’s trace, also after the body is parsed', () => {
    expect(query('in_get_route')?.parent).toBe(server('GET /items/:id')[0].spanId);
    expect(query('in_post_route')?.parent).toBe(server('POST /items')[0].spanId);
    expect(server('POST /items')[0].attributes['http.response.status_code']).toBe(201);
  });

  it('leaves self-traced requests alone', () => {
    expect(spans.filter((s) => s.kind === SERVER && String(s.attributes['url.path']).startsWith('/hot/'))).toEqual([]);
    expect(query('in_self_traced_route')?.parent).toBeUndefined();
  });

  it('marks server errors and names unrouted requests by method only', () => {
    const [failed] = server('GET /fails');
    expect(failed.status).toBe(2); // SpanStatusCode.ERROR
    expect(failed.attributes['http.response.status_code']).toBe(500);
    const [unrouted] = server('GET');
    expect(unrouted.attributes).toMatchObject({ 'url.path': '/nowhere', 'http.response.status_code': 404 });
  });
});
