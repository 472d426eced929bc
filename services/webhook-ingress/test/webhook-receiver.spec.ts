import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { UNROUTED_TENANT, type TopicSpec, type WebhookQuarantineV1 } from '@wa/contracts';
import { TenantRegistry } from '@wa/tenancy';
import { IngressEnv } from '../src/config/env';
import { AppCredentials } from '../src/webhook/app-credentials';
import type { DurablePublisher } from '../src/webhook/durable-publisher';
import { signatureOf } from '../src/webhook/signature';
import type { WebhookRequest } from '../src/webhook/webhook-http';
import { WebhookReceiver } from '../src/webhook/webhook-receiver';

const YAML = readFileSync(join(__dirname, '..', '..', '..', 'config', 'tenants.sandbox.yaml'), 'utf8');
const SECRETS = {
  ROADS_APP_SECRET: 'roads-secret-of-this-test',
  ROADS_VERIFY_TOKEN: 'roads-verify-token-of-this-test',
  IMMIGRATION_APP_SECRET: 'immigration-secret-of-this-test',
  IMMIGRATION_VERIFY_TOKEN: 'immigration-verify-token-of-this-test',
};

interface Published {
  topic: string;
  data: Record<string, unknown>;
}

/** The receiver with a publisher that only records (the broker paths are in the integration tests). */
function receiverOf(yaml: string, env: Partial<IngressEnv> = {}) {
  const registry = TenantRegistry.parse(yaml, SECRETS);
  const published: Published[] = [];
  const publisher = {
    publish: (spec: TopicSpec<object>, data: Record<string, unknown>) => {
      published.push({ topic: spec.name, data });
      return Promise.resolve({ outcome: 'stored' });
    },
  } as unknown as DurablePublisher;
  // The env class's own defaults, as loadEnv gives them.
  const receiver = new WebhookReceiver(new AppCredentials(registry), registry, publisher, Object.assign(new IngressEnv(), env));
  const receive = async (body: string) => {
    const request = {
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signatureOf(SECRETS.ROADS_APP_SECRET, body) },
      rawBody: Buffer.from(body),
    } as unknown as WebhookRequest;
    await receiver.receive('roads-app', request, ROOT_CONTEXT);
    return request.webhookOutcome;
  };
  return { receive, published };
}

describe('WebhookReceiver: signed bodies that are not WhatsApp envelopes', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn']));

  it('keeps them in quarantine and answers 200 (the default), attributed to the app’s only tenant', async () => {
    const { receive, published } = receiverOf(YAML);
    expect(await receive('not json')).toBe('not_json');
    expect(await receive('{"object":"page","entry":[]}')).toBe('not_whatsapp');
    expect(await receive('[1,2]')).toBe('not_whatsapp');
    expect(published.map((p) => p.topic)).toEqual(Array(3).fill('wa.webhook.quarantine.v1'));
    expect(published.map((p) => (p.data as unknown as WebhookQuarantineV1).reason)).toEqual([
      'unparseable',
      'not-whatsapp',
      'not-whatsapp',
    ]);
    expect(published.every((p) => p.data.tenantId === 'roads-agency' && p.data.appId === 'roads-app')).toBe(true);
  });

  it('attributes them to no tenant when the app serves several (nothing in the body says which)', async () => {
    const { receive, published } = receiverOf(YAML.replace('appId: immigration-app', 'appId: roads-app'));
    await receive('{"hello":"world"}');
    expect(published).toEqual([
      {
        topic: 'wa.webhook.quarantine.v1',
        data: expect.objectContaining({ tenantId: UNROUTED_TENANT, appId: 'roads-app', reason: 'not-whatsapp', body: '{"hello":"world"}' }),
      },
    ]);
  });

  it('answers 400 instead when WEBHOOK_BAD_CONTENT_STATUS=400, still after quarantining', async () => {
    const { receive, published } = receiverOf(YAML, { WEBHOOK_BAD_CONTENT_STATUS: 400 });
    await expect(receive('not json')).rejects.toMatchObject({ code: 'not_json', status: 400 });
    expect(published).toHaveLength(1);
  });

  it('publishes a WhatsApp envelope as the raw record, of the tenant it names, else of none when the app serves several', async () => {
    const { receive, published } = receiverOf(YAML);
    expect(await receive('{"object":"whatsapp_business_account","entry":[]}')).toBe('accepted');
    expect(published.map((p) => [p.topic, p.data.tenantId])).toEqual([['wa.webhook.raw.v2', 'roads-agency']]);
    const shared = receiverOf(YAML.replace('appId: immigration-app', 'appId: roads-app'));
    await shared.receive('{"object":"whatsapp_business_account","entry":[{"id":"100000000000002","changes":[]}]}');
    await shared.receive('{"object":"whatsapp_business_account","entry":[{"id":"999","changes":[]}]}');
    expect(shared.published.map((p) => p.data.tenantId)).toEqual(['immigration-dept', UNROUTED_TENANT]);
  });
});
