import Fastify, { type FastifyInstance } from 'fastify';
import { AGENCY_PUBLIC_ORIGIN, localAgencyUrl, registerAgency } from './agency.routes';
import { onePagePdf, printable, wrap } from './pdf';

async function build(options: Parameters<typeof registerAgency>[1] = {}): Promise<FastifyInstance> {
  const app = Fastify();
  await registerAgency(app, { statusApiKey: 'k', slowMs: 300, ...options });
  await app.ready();
  return app;
}

/** Checks what a PDF reader relies on: the cross-reference table points at each object. */
function checkPdfStructure(pdf: Buffer): void {
  const text = pdf.toString('latin1');
  expect(text.startsWith('%PDF-1.4\n')).toBe(true);
  expect(text.endsWith('%%EOF\n')).toBe(true);
  const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)![1]);
  expect(text.slice(startxref, startxref + 4)).toBe('xref');
  const [, count] = /^xref\n0 (\d+)\n/.exec(text.slice(startxref))!;
  const entries = text
    .slice(startxref)
    .split('\n')
    .slice(3, 2 + Number(count));
  entries.forEach((entry, i) => {
    const offset = Number(entry.slice(0, 10));
    expect(text.slice(offset, offset + `${i + 1} 0 obj`.length)).toBe(`${i + 1} 0 obj`);
  });
  const length = Number(/\/Length (\d+) >>\nstream\n/.exec(text)![1]);
  const start = text.indexOf('stream\n') + 'stream\n'.length;
  expect(text.slice(start + length, start + length + '\nendstream'.length)).toBe('\nendstream');
}

describe('sandbox agency pages', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await build();
  });
  afterAll(async () => app.close());

  const lookup = (reference: string, key: string | null = 'k') =>
    app.inject({ method: 'GET', url: `/agency/immigration/applications/${reference}`, headers: key ? { 'x-api-key': key } : {} });

  it('answers the status of the sample applications', async () => {
    const states = await Promise.all(['IMM-2026-000001', 'IMM-2026-000002', 'imm-2026-000003'].map((r) => lookup(r)));
    expect(states.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(states.map((r) => r.json().state)).toEqual(['approved', 'in_review', 'needs_documents']);
    expect(states[0].json()).toEqual({
      reference: 'IMM-2026-000001',
      kind: 'residence_visa_renewal',
      state: 'approved',
      updated_on: '2026-11-28',
    });
    expect(states[2].json().reference).toBe('IMM-2026-000003');
  });

  it('answers 404 for an unknown reference and 401 without the key', async () => {
    const unknown = await lookup('IMM-2026-999999');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('not_found');
    expect((await lookup('IMM-2026-000001', null)).statusCode).toBe(401);
    expect((await lookup('IMM-2026-000001', 'wrong')).statusCode).toBe(401);
  });

  it('has references for the error paths: broken JSON, 503 and a slow answer', async () => {
    const garbage = await lookup('IMM-2026-000005');
    expect(garbage.statusCode).toBe(200);
    expect(garbage.headers['content-type']).toMatch(/^application\/json/);
    expect(() => JSON.parse(garbage.body)).toThrow(SyntaxError);
    expect((await lookup('IMM-2026-000006')).statusCode).toBe(503);
    const started = Date.now();
    const slow = await lookup('IMM-2026-000004');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(slow.json().state).toBe('in_review');
  });

  it('asks for no key when none is configured', async () => {
    const open = Fastify();
    const saved = process.env.IMMIGRATION_STATUS_API_KEY;
    delete process.env.IMMIGRATION_STATUS_API_KEY;
    try {
      await registerAgency(open);
      expect((await open.inject({ method: 'GET', url: '/agency/immigration/applications/IMM-2026-000002' })).statusCode).toBe(200);
    } finally {
      if (saved !== undefined) process.env.IMMIGRATION_STATUS_API_KEY = saved;
      await open.close();
    }
  });

  it('serves the visa renewal checklist as a well-formed PDF per language', async () => {
    for (const lang of ['en', 'es', 'fr', 'pt_BR']) {
      const response = await app.inject({ method: 'GET', url: `/agency/immigration/files/visa-renewal-checklist-${lang}.pdf` });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/pdf');
      checkPdfStructure(response.rawPayload);
    }
    const es = await app.inject({ method: 'GET', url: '/agency/immigration/files/visa-renewal-checklist-es.pdf' });
    // Accented letters are single WinAnsi bytes in the drawn text.
    expect(es.rawPayload.includes(Buffer.from('(Renovación de la visa de residencia', 'latin1'))).toBe(true);
    expect((await app.inject({ method: 'GET', url: '/agency/immigration/files/visa-renewal-checklist-xx.pdf' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/agency/immigration/files/other.pdf' })).statusCode).toBe(404);
  });

  it('serves the roads agency pages that the flow links to', async () => {
    for (const url of ['/agency/roads/pay?source=whatsapp', '/agency/roads/appointments']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
    }
  });

  it('maps the stand-in https origin to the sandbox, and nothing else', () => {
    expect(localAgencyUrl(`${AGENCY_PUBLIC_ORIGIN}/immigration/files/a.pdf`, 'http://127.0.0.1:3100/')).toBe(
      'http://127.0.0.1:3100/agency/immigration/files/a.pdf',
    );
    expect(localAgencyUrl('https://agency.example.gov.evil.test/x', 'http://127.0.0.1:3100')).toBeUndefined();
    expect(localAgencyUrl('https://example.org/x', 'http://127.0.0.1:3100')).toBeUndefined();
  });
});

describe('onePagePdf', () => {
  it('escapes parentheses and backslashes and refuses characters it cannot draw', () => {
    const pdf = onePagePdf({ title: 'a (b) \\ c', lines: ['x'] }).toString('latin1');
    expect(pdf).toContain('(a \\(b\\) \\\\ c) Tj');
    checkPdfStructure(Buffer.from(pdf, 'latin1'));
    expect(printable('Renovação – “ok” •')).toBe(true);
    expect(printable('تجديد')).toBe(false);
    expect(() => onePagePdf({ title: 'تجديد', lines: [] })).toThrow(/not printable/);
  });

  it('wraps long paragraphs by words', () => {
    expect(wrap('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(wrap('', 10)).toEqual(['']);
  });
});
