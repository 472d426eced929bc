// The Cloud API sandbox runs in-process in these tests (a test tool, never a dependency of the service).
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { mintSandboxToken, type Role } from '@wa/auth';
import type { AccountEventV1 } from '@wa/contracts';
import { TenantRegistry } from '@wa/tenancy';
import { buildSandbox, sandboxTemplates, WebhookSender, type SandboxContext, type SandboxTemplateStore } from '@wa/cloud-api-sandbox';

export const TENANTS_FILE = join(__dirname, '..', '..', '..', 'config', 'tenants.sandbox.yaml');
export const ROADS_WABA = '100000000000001';
export const IMMIGRATION_WABA = '100000000000002';

/** Sandbox-only secrets of the two sample tenants, set for this test process only. */
export const TENANT_SECRETS: Record<string, string> = {
  ROADS_APP_SECRET: 'test-roads-app-secret',
  ROADS_VERIFY_TOKEN: 'test-roads-verify',
  ROADS_ACCESS_TOKEN: 'test-roads-access-token',
  IMMIGRATION_APP_SECRET: 'test-immigration-app-secret',
  IMMIGRATION_VERIFY_TOKEN: 'test-immigration-verify',
  IMMIGRATION_ACCESS_TOKEN: 'test-immigration-access-token',
};

export interface CapturedWebhook {
  appId: string;
  body: { entry: { id: string; time: number; changes: { field: string; value: Record<string, unknown> }[] }[] };
}

/**
 * The Cloud API sandbox in-process on port 0, its webhooks going to a local listener that stands
 * in for the ingress (another service) and records them.
 */
export async function startSandbox(): Promise<{
  url: string;
  app: FastifyInstance;
  store: SandboxTemplateStore;
  webhooks: CapturedWebhook[];
  stop(): Promise<void>;
}> {
  const webhooks: CapturedWebhook[] = [];
  const listener: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      webhooks.push({ appId: (req.url ?? '').split('/').pop() ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const context: SandboxContext = {
    tenants: TenantRegistry.load(TENANTS_FILE, TENANT_SECRETS),
    webhooks: new WebhookSender(`http://127.0.0.1:${(listener.address() as AddressInfo).port}`),
    webhookPath: (appId) => `/webhooks/whatsapp/${appId}`,
  };
  const app = await buildSandbox(context);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    url,
    app,
    store: sandboxTemplates(context),
    webhooks,
    stop: async () => {
      await app.close();
      await new Promise((r) => listener.close(r));
    },
  };
}

/**
 * What the webhook ingress publishes for a template webhook (AccountEventV1), built from the
 * sandbox's real webhook: the ingress is another engineer's service, so the test plays its part.
 */
export function accountEventFrom(webhook: CapturedWebhook, tenantId: string): AccountEventV1 {
  const entry = webhook.body.entry[0];
  const change = entry.changes[0];
  const value = change.value;
  const kinds: Record<string, string> = {
    message_template_status_update: 'template_status',
    message_template_quality_update: 'template_quality',
    template_category_update: 'template_category',
  };
  const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
  const rejection = (value.rejection_info ?? {}) as Record<string, unknown>;
  const event: AccountEventV1 = {
    tenantId,
    wabaId: entry.id,
    field: change.field,
    kind: value.new_quality_score !== undefined ? 'template_quality' : (kinds[change.field] ?? 'other'),
    occurredAt: new Date(entry.time * 1000).toISOString(),
    details: value,
  };
  const optional = {
    event: str(value.event) ?? str(value.new_quality_score),
    templateId: str(value.message_template_id),
    templateName: str(value.message_template_name),
    templateLanguage: str(value.message_template_language)?.replace(/-/g, '_'),
    reason: str(value.reason) ?? str(rejection.reason),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (event as unknown as Record<string, unknown>)[k] = v;
  return event;
}

export function authSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenFor(secret: string, tenant: string, roles: Role[], sub = 'editor-1'): Promise<string> {
  return mintSandboxToken({ key: Buffer.from(secret), sub, tenant, roles });
}

/** A small JSON client for the service under test. */
export function api(base: string, token?: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test client: shapes are asserted by the tests
    const json: any = text ? JSON.parse(text) : undefined;
    return { status: response.status, body: json };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body?: unknown) => call('POST', path, body ?? {}),
    put: (path: string, body: unknown) => call('PUT', path, body),
    delete: (path: string) => call('DELETE', path),
  };
}
