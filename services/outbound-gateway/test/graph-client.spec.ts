import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphClient } from '../src/cloud-api/graph-client';

describe('Graph client: sorting outcomes into accepted, error, never sent, maybe sent', () => {
  let server: Server;
  let base: string;
  let respond: (res: import('node:http').ServerResponse) => void;
  let lastAuth: string | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      lastAuth = req.headers.authorization;
      req.resume();
      req.on('end', () => respond(res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const target = { graphVersion: 'v23.0', phoneNumberId: '310000000000001', accessToken: 'secret-token' };
  const json = (status: number, body: unknown) => (res: import('node:http').ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  it('reads the wamid and message_status of an accepted send', async () => {
    respond = json(200, {
      messaging_product: 'whatsapp',
      contacts: [{ input: '+1', wa_id: '1' }],
      messages: [{ id: 'wamid.A', message_status: 'held_for_quality_assessment' }],
    });
    expect(await new GraphClient(base, 1000).sendMessage(target, {})).toEqual({
      kind: 'accepted',
      httpStatus: 200,
      wamid: 'wamid.A',
      messageStatus: 'held_for_quality_assessment',
    });
    expect(lastAuth).toBe('Bearer secret-token');
  });

  it('reads Meta’s error body (code, details, fbtrace_id)', async () => {
    respond = json(400, {
      error: {
        message: '(#131026) Message undeliverable',
        type: 'OAuthException',
        code: 131026,
        error_data: { details: 'not on WhatsApp' },
        fbtrace_id: 'Ab1',
      },
    });
    expect(await new GraphClient(base, 1000).sendMessage(target, {})).toMatchObject({
      kind: 'error',
      httpStatus: 400,
      code: 131026,
      details: 'not on WhatsApp',
      fbtraceId: 'Ab1',
    });
  });

  it('treats a 5xx without a Cloud API body and a timeout as "maybe sent"', async () => {
    respond = (res) => res.writeHead(502).end('<html>bad gateway</html>');
    expect((await new GraphClient(base, 1000).sendMessage(target, {})).kind).toBe('uncertain');
    respond = () => undefined; // never answers
    expect(await new GraphClient(base, 200).sendMessage(target, {})).toMatchObject({
      kind: 'uncertain',
      detail: expect.stringMatching(/timed out/),
    });
  });

  it('treats a refused connection as "never sent" (safe to retry)', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await new GraphClient(`http://127.0.0.1:${port}`, 1000).sendMessage(target, {})).toMatchObject({
      kind: 'not-sent',
      detail: expect.stringMatching(/ECONNREFUSED/),
    });
  });
});
