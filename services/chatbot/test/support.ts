import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mintSandboxToken, type Role } from '@wa/auth';
import {
  Topics,
  type CitizenConsentV1,
  type ConversationOwnerV1,
  type HandoffMessageV1,
  type HandoffRequestV1,
  type InboundMessageV1,
  type OutboundRequestV1,
  type AgencyCaseV1,
} from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { startTestService, type Collector, type TestKafka, type TestService } from '@wa/testing';
import { AppModule } from '../src/app.module';
import { chatbotService } from '../src/service';
import { SweeperService } from '../src/timeouts/sweeper.service';

export const AUTH_SECRET = 'chatbot-tests-sandbox-signing-secret-0123456789';
export const ROADS = { tenantId: 'roads-agency', phoneNumberId: '310000000000001' };
export const IMMIGRATION = { tenantId: 'immigration-dept', phoneNumberId: '310000000000002' };
export const TEST_FLOW = readFileSync(join(__dirname, 'fixtures', 'main.flow.yaml'), 'utf8');

export function token(tenant: string, roles: Role[], sub = 'editor@test'): Promise<string> {
  return mintSandboxToken({ key: Buffer.from(AUTH_SECRET), sub, tenant, roles });
}

/** The ingress's media API as the chatbot sees it: POST /v1/media/:id → a durable reference. */
export interface MediaStub {
  url: string;
  calls: { mediaId: string; tenant: string; phoneNumberId: string | null }[];
  close(): Promise<void>;
}

export async function startMediaStub(): Promise<MediaStub> {
  const calls: MediaStub['calls'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const match = /^\/v1\/media\/([^/]+)$/.exec(url.pathname);
    const auth = /^Bearer [^.]+\.([^.]+)\./.exec(req.headers.authorization ?? '');
    if (req.method !== 'POST' || !match || !auth) {
      res.writeHead(!auth ? 401 : 404, { 'content-type': 'application/json' }).end('{"code":"no"}');
      return;
    }
    const claims = JSON.parse(Buffer.from(auth[1], 'base64url').toString()) as { tenant: string };
    const mediaId = decodeURIComponent(match[1]);
    calls.push({ mediaId, tenant: claims.tenant, phoneNumberId: url.searchParams.get('phoneNumberId') });
    if (mediaId.startsWith('gone')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"media_not_found","message":"gone"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        tenantId: claims.tenant,
        mediaId,
        reference: `media:${claims.tenant}/${mediaId}`,
        contentPath: `/v1/media/${mediaId}/content`,
        mimeType: 'image/jpeg',
        sha256: 'ab'.repeat(32),
        fileSize: 1234,
        fetchedAt: new Date().toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise((r) => server.close(() => r())) };
}

export async function startChatbot(
  tk: TestKafka,
  env: Record<string, string> = {},
): Promise<{ service: TestService; sweeper: SweeperService }> {
  const service = await startTestService(chatbotService, (e) => AppModule.forRoot(e), tk, {
    env: {
      AUTH_SANDBOX_SECRET: AUTH_SECRET,
      TENANTS_FILE: 'config/tenants.sandbox.yaml',
      CHATBOT_SWEEP_ENABLED: 'false',
      CHATBOT_SANDBOX_FLOWS: 'false',
      ...env,
    },
  });
  return { service, sweeper: service.app.get(SweeperService) };
}

/** A JSON/YAML client for the admin API. */
export function api(base: string, bearer: string) {
  const call = async (method: string, path: string, body?: string, contentType = 'application/yaml') => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
      body,
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test client: shapes are asserted by the tests
    return { status: response.status, body: json as any, text };
  };
  return {
    get: (path: string) => call('GET', path),
    put: (path: string, yaml: string) => call('PUT', path, yaml),
    post: (path: string) => call('POST', path),
  };
}

let counter = 0;
/** A fresh Colombian (es) or Emirati (ar) number per test, so conversations never share a citizen. */
export function citizen(country: '57' | '971' = '57'): string {
  return `${country}3${String(Date.now() % 1e6).padStart(6, '0')}${String(++counter).padStart(2, '0')}`;
}

/** Publishes citizen messages the way the ingress's normalizer does. */
export class Citizen {
  constructor(
    private readonly producer: EventProducer,
    readonly waId: string,
    readonly tenant = ROADS,
  ) {}

  private base(type: InboundMessageV1['type'], wamid?: string): InboundMessageV1 {
    const now = new Date().toISOString();
    return {
      tenantId: this.tenant.tenantId,
      phoneNumberId: this.tenant.phoneNumberId,
      messageId: wamid ?? `wamid.${randomUUID()}`,
      contact: { waId: this.waId, profileName: 'Ana' },
      sentAt: now,
      receivedAt: now,
      type,
    } as InboundMessageV1;
  }

  async send(message: InboundMessageV1): Promise<string> {
    await this.producer.publish(Topics.inboundMessage, message);
    return message.messageId;
  }

  text(text: string, wamid?: string): Promise<string> {
    return this.send({ ...this.base('text', wamid), text });
  }
  reply(id: string, title: string, kind: 'button_reply' | 'list_reply' = 'button_reply'): Promise<string> {
    return this.send({ ...this.base('interactive'), interactive: { kind, id, title } });
  }
  image(mediaId: string): Promise<string> {
    return this.send({ ...this.base('image'), media: { mediaId, mimeType: 'image/jpeg' } });
  }
  location(latitude: number, longitude: number): Promise<string> {
    return this.send({ ...this.base('location'), location: { latitude, longitude, name: 'Calle 26' } });
  }
  sticker(): Promise<string> {
    return this.send({ ...this.base('sticker'), media: { mediaId: 'sticker-1', mimeType: 'image/webp', animated: false } });
  }
  reaction(messageId: string): Promise<string> {
    return this.send({ ...this.base('reaction'), reaction: { messageId, emoji: '👍' } });
  }
}

const parse = <T>(c: Collector) => c.records.map((r) => JSON.parse(r.value!) as T);

export const outbound = (c: Collector, waId: string) => parse<OutboundRequestV1>(c).filter((r) => r.to.waId === waId);
export const consents = (c: Collector, waId: string) => parse<CitizenConsentV1>(c).filter((r) => r.contact.waId === waId);
export const handoffs = (c: Collector, waId: string) => parse<HandoffRequestV1>(c).filter((r) => r.contact.waId === waId);
export const forwarded = (c: Collector, waId: string) => parse<HandoffMessageV1>(c).filter((r) => r.citizenKey === waId);
export const ownerChanges = (c: Collector, waId: string) => parse<ConversationOwnerV1>(c).filter((r) => r.citizenKey === waId);
export const cases = (c: Collector, waId: string) => parse<AgencyCaseV1>(c).filter((r) => r.subjectWaId === waId);

/** What the citizen reads: the body, list/button text, with the option titles. */
export function shown(r: OutboundRequestV1): string {
  const c = (r.content ?? {}) as Record<string, unknown>;
  if (r.kind === 'text') return String(c.body);
  if (r.kind === 'interactive') {
    const body = (c.body as { text: string }).text;
    const action = c.action as { buttons?: { reply: { title: string } }[]; sections?: { rows: { title: string }[] }[] };
    const titles = action.buttons?.map((b) => b.reply.title) ?? action.sections?.flatMap((s) => s.rows.map((r) => r.title)) ?? [];
    return `${body} [${titles.join(' | ')}]`;
  }
  return `[${r.kind}]`;
}
