import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { DataSource } from 'typeorm';
import { mintSandboxToken, type Role } from '@wa/auth';
import {
  citizenKey,
  Topics,
  type CitizenConsentV1,
  type InboundMessageV1,
  type MessageStatusV1,
  type OutboundRequestV1,
  type OutboundResultV1,
  type TemplateCatalogEntryV1,
} from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { TenantRegistry } from '@wa/tenancy';
import { createTestKafka, startTestService, waitFor, type Collector, type TestKafka, type TestService } from '@wa/testing';
import {
  buildSandbox,
  outboundSimulatorOf,
  sandboxTemplates,
  WebhookSender,
  type OutboundSimulator,
  type SandboxContext,
  type SentMessage,
} from '@wa/cloud-api-sandbox';
import { AppModule } from '../../src/app.module';
import { outboundGatewayService } from '../../src/service';

const ROOT = join(__dirname, '..', '..', '..', '..');
export const TENANTS_FILE = join(ROOT, 'config', 'tenants.sandbox.yaml');
export const AUTH_SECRET = 'gateway-test-signing-secret-0123456789abcdef';

export const ROADS = { tenantId: 'roads-agency', phoneNumberId: '310000000000001' } as const;
export const IMMIGRATION = {
  tenantId: 'immigration-dept',
  phoneNumberId: '310000000000002',
  slowPhoneNumberId: '310000000000003',
} as const;

/** The sample tenants' sandbox-only secrets (deploy/local/sandbox.env), into process.env for the registries. */
export function loadSandboxSecrets(): void {
  for (const line of readFileSync(join(ROOT, 'deploy', 'local', 'sandbox.env'), 'utf8').split('\n')) {
    const l = line.trim();
    if (!l || l.startsWith('#') || !l.includes('=')) continue;
    process.env[l.slice(0, l.indexOf('='))] ??= l.slice(l.indexOf('=') + 1);
  }
}

/** A distinct citizen per test: nothing one test does (pacing, window, consent) leaks into another. */
let citizenSeq = 0;
export function citizen(): { phone: string; waId: string } {
  const n = `5730${String(Date.now()).slice(-5)}${String(++citizenSeq).padStart(3, '0')}`;
  return { phone: `+${n}`, waId: n };
}

export interface GatewayHarness {
  tk: TestKafka;
  gateway: TestService;
  sandbox: FastifyInstance;
  sandboxUrl: string;
  simulator: OutboundSimulator;
  producer: EventProducer;
  results: Collector;
  send(request: Partial<OutboundRequestV1> & Pick<OutboundRequestV1, 'kind'>, options?: { ceId?: string }): Promise<OutboundRequestV1>;
  /** `count` bulk sends of a template without parameters from one number, each to a new citizen. */
  sendBulk(
    count: number,
    from: { tenantId: string; phoneNumberId: string },
    template: { name: string; language: string },
  ): Promise<OutboundRequestV1[]>;
  resultOf(requestId: string, timeoutMs?: number): Promise<OutboundResultV1>;
  resultsOf(requestId: string): OutboundResultV1[];
  sentTo(waId: string): SentMessage[];
  openWindow(tenantId: string, phoneNumberId: string, waId: string, at?: Date): Promise<void>;
  optOut(tenantId: string, waId: string, category: string, state?: 'opted_out' | 'opted_in'): Promise<void>;
  approve(
    entry: Partial<TemplateCatalogEntryV1> & Pick<TemplateCatalogEntryV1, 'tenantId' | 'name' | 'language' | 'components'>,
  ): Promise<void>;
  status(status: MessageStatusV1): Promise<void>;
  token(tenantId: string, roles?: Role[]): Promise<string>;
  api(path: string, token?: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startGatewayHarness(label: string, env: Record<string, string> = {}): Promise<GatewayHarness> {
  loadSandboxSecrets();
  const tk = await createTestKafka(label);
  const context: SandboxContext = {
    tenants: TenantRegistry.load(TENANTS_FILE),
    // Status webhooks go nowhere here (the ingress is another service); tests publish statuses to Kafka.
    webhooks: new WebhookSender('http://127.0.0.1:1'),
    webhookPath: (appId) => `/webhooks/whatsapp/${appId}`,
  };
  const sandbox = await buildSandbox(context);
  await sandbox.listen({ port: 0, host: '127.0.0.1' });
  const sandboxUrl = `http://127.0.0.1:${(sandbox.server.address() as { port: number }).port}`;
  const simulator = outboundSimulatorOf(sandbox);
  simulator.configure({ statuses: { enabled: false } });

  const gateway = await startTestService(outboundGatewayService, (e) => AppModule.forRoot(e), tk, {
    env: {
      TENANTS_FILE,
      GRAPH_BASE_URL: sandboxUrl,
      AUTH_MODE: 'sandbox',
      AUTH_SANDBOX_SECRET: AUTH_SECRET,
      IDLE_POLL_MS: '50',
      RETRY_BASE_MS: '200',
      THROUGHPUT_BACKOFF_MS: '300',
      PAIR_BACKOFF_UNIT_MS: '200',
      WINDOW_GRACE_MS: '300',
      CATALOG_GRACE_MS: '300',
      REPLICA_DEAD_AFTER_MS: '2000',
      ...env,
    },
  });
  const producer = new EventProducer(tk.kafka, tk.options, '/tests/gateway');
  await producer.connect();
  const results = await tk.collect(Topics.outboundResult.name);

  const parsedResults = () => results.records.map((r) => JSON.parse(r.value ?? 'null') as OutboundResultV1);

  const harness: GatewayHarness = {
    tk,
    gateway,
    sandbox,
    sandboxUrl,
    simulator,
    producer,
    results,
    async send(partial, options = {}) {
      const request = {
        tenantId: ROADS.tenantId,
        requestId: randomUUID(),
        to: { phone: citizen().phone },
        priority: 'reply',
        requestedBy: 'tests',
        ...partial,
      } as OutboundRequestV1;
      await producer.publish(Topics.outboundRequest, request, { id: options.ceId ?? randomUUID() });
      return request;
    },
    sendBulk(count, { tenantId, phoneNumberId }, template) {
      return Promise.all(
        Array.from({ length: count }, () =>
          harness.send({ tenantId, phoneNumberId, kind: 'template', priority: 'bulk', to: { phone: citizen().phone }, template }),
        ),
      );
    },
    async resultOf(requestId, timeoutMs = 30000) {
      return waitFor(() => parsedResults().find((r) => r.requestId === requestId), { timeoutMs, what: `the result of ${requestId}` });
    },
    resultsOf: (requestId) => parsedResults().filter((r) => r.requestId === requestId),
    sentTo: (waId) => simulator.sent.filter((m) => m.waId === waId),
    async openWindow(tenantId, phoneNumberId, waId, at = new Date()) {
      // Meta learns of the citizen's message too: without it the sandbox, like Meta, accepts a
      // free-form send and then fails it with 131047. The ingress is another service here, so the
      // sandbox's control opens the window the message would have opened.
      const opened = await fetch(`${sandboxUrl}/sandbox/windows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ phoneNumberId, waId, at: at.toISOString() }),
      });
      if (opened.status !== 201) throw new Error(`the sandbox did not open the window: ${opened.status} ${await opened.text()}`);
      const inbound: InboundMessageV1 = {
        tenantId,
        phoneNumberId,
        messageId: `wamid.in.${randomUUID()}`,
        contact: { waId },
        sentAt: at.toISOString(),
        receivedAt: new Date().toISOString(),
        type: 'text',
        text: 'hola',
      };
      await producer.publish(Topics.inboundMessage, inbound);
      await waitFor(
        async () => {
          const rows = await gateway.app
            .get(DataSource)
            .query(`SELECT 1 FROM gateway.contact_window WHERE tenant_id = $1 AND citizen_key = $2 AND phone_number_id = $3`, [
              tenantId,
              citizenKey({ waId }),
              phoneNumberId,
            ]);
          return rows.length > 0;
        },
        { timeoutMs: 30000, what: 'the window to be recorded' },
      );
    },
    async optOut(tenantId, waId, category, state = 'opted_out') {
      const consent: CitizenConsentV1 = {
        tenantId,
        contact: { waId },
        category,
        state,
        channel: 'whatsapp-keyword',
        occurredAt: new Date().toISOString(),
      };
      await producer.publish(Topics.citizenConsent, consent);
      await waitFor(
        async () =>
          (
            await gateway.app
              .get(DataSource)
              .query(`SELECT 1 FROM gateway.consent WHERE tenant_id = $1 AND citizen_key = $2 AND category = $3 AND state = $4`, [
                tenantId,
                citizenKey({ waId }),
                category,
                state,
              ])
          ).length > 0,
        { timeoutMs: 30000, what: 'the consent to be recorded' },
      );
    },
    async approve(partial) {
      const entry: TemplateCatalogEntryV1 = {
        category: 'UTILITY',
        status: 'APPROVED',
        parameterFormat: 'named',
        parameters: [],
        version: 1,
        updatedAt: new Date().toISOString(),
        ...partial,
      };
      // Meta knows the template too: the sandbox checks every template send against its own copy.
      const store = sandboxTemplates(context);
      const wabaId = context.tenants.tenant(entry.tenantId)!.wabaId;
      const id = store.find(wabaId, entry.name, entry.language)?.id ?? store.newId();
      store.templates.set(id, {
        id,
        wabaId,
        name: entry.name,
        language: entry.language,
        category: entry.category,
        parameterFormat: entry.parameterFormat,
        status: entry.status,
        components: entry.components,
        qualityScore: 'GREEN',
        createdAt: entry.updatedAt,
        updatedAt: entry.updatedAt,
      });
      await producer.publish(Topics.templateCatalog, entry);
      await waitFor(
        async () =>
          (
            await gateway.app
              .get(DataSource)
              .query(`SELECT 1 FROM gateway.template_catalog WHERE tenant_id = $1 AND name = $2 AND language = $3 AND status = $4`, [
                entry.tenantId,
                entry.name,
                entry.language,
                entry.status,
              ])
          ).length > 0,
        { timeoutMs: 30000, what: 'the template to reach the catalog' },
      );
    },
    async status(status) {
      await producer.publish(Topics.messageStatus, status);
    },
    token: (tenantId, roles = ['supervisor']) =>
      mintSandboxToken({ key: Buffer.from(AUTH_SECRET, 'utf8'), sub: 'tester', tenant: tenantId, roles }),
    api: (path, token, init = {}) =>
      fetch(`${gateway.url}${path}`, {
        ...init,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers ?? {}) },
      }),
    async close() {
      await producer.disconnect().catch(() => undefined);
      await gateway.close().catch(() => undefined);
      await sandbox.close().catch(() => undefined);
      await gateway.db.drop().catch(() => undefined);
      await tk.cleanup();
    },
  };
  return harness;
}

/** An approved template without placeholders: one body text. */
export function plainTemplate(tenantId: string, name: string, language: string, text: string) {
  return { tenantId, name, language, components: [{ type: 'BODY', text }] };
}

/** A body-only template with named variables, as the registry publishes it. */
export function namedTemplate(tenantId: string, name: string, language = 'es', category = 'UTILITY') {
  return {
    tenantId,
    name,
    language,
    category,
    parameterFormat: 'named' as const,
    parameters: [
      { component: 'body' as const, name: 'first_name', type: 'text' as const, required: true },
      { component: 'body' as const, name: 'due_date', type: 'text' as const, required: true },
    ],
    components: [
      {
        type: 'BODY',
        text: 'Hola {{first_name}}, su licencia vence el {{due_date}}.',
        example: {
          body_text_named_params: [
            { param_name: 'first_name', example: 'Ana' },
            { param_name: 'due_date', example: '1 de marzo' },
          ],
        },
      },
    ],
  };
}
