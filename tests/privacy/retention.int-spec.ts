import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { inboxRetentionDays, Topics } from '@wa/contracts';
import { metricsRegistry } from '@wa/observability';
import { pruneAll, type PruneRule } from '@wa/persistence';
import { TenantRegistry } from '@wa/tenancy';
import { chatbotRetentionRules } from '../../services/chatbot/src/retention/retention.rules';
import { schedulerRetentionRules } from '../../services/notification-scheduler/src/retention/retention.rules';
import { gatewayRetentionRules } from '../../services/outbound-gateway/src/retention/retention.rules';
import { templatesRetentionRules } from '../../services/template-registry/src/retention/retention.rules';
import { ingressRetentionRules } from '../../services/webhook-ingress/src/retention/retention.rules';
import { newCitizen, seedCitizen } from './citizens';
import { platformDb, type PlatformDb } from './platform-db';

const tenants = TenantRegistry.load(join(__dirname, '..', '..', 'config', 'tenants.sandbox.yaml'), {});
const RULES: Record<string, PruneRule[]> = {
  ingress: ingressRetentionRules(tenants),
  gateway: gatewayRetentionRules(tenants),
  templates: templatesRetentionRules(tenants),
  scheduler: schedulerRetentionRules(tenants),
  chatbot: chatbotRetentionRules(tenants),
};
const tenantIds = tenants.tenants.map((t) => t.id);

/**
 * Every service's pruner on real PostgreSQL, with the sandbox tenants file: roads-agency keeps
 * messages 90 days, media 30 and transcripts 60; immigration-dept and a tenant no longer in the
 * file take the platform defaults (messages 180, media 30, transcripts 90, notices 365).
 */
describe('retention pruners of every service', () => {
  let p: PlatformDb;
  let pruned: Record<string, Record<string, number> | undefined>;
  const queuedId = randomUUID();

  const count = async (table: string, where = 'true') =>
    Number((await p.admin.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`))[0].n);
  const metric = async (schema: string, table: string) =>
    (await metricsRegistry.getSingleMetric('retention_pruned_rows_total')?.get())?.values.find(
      (v) => v.labels.schema === schema && v.labels.table === table,
    )?.value ?? 0;

  beforeAll(async () => {
    p = await platformDb();
    for (const [tenant, age] of [
      ['roads-agency', 0],
      ['roads-agency', 45],
      ['roads-agency', 75],
      ['roads-agency', 120],
      ['immigration-dept', 120],
      ['gone-agency', 120],
    ] as const) {
      await seedCitizen(p.admin, newCitizen(tenant), age);
    }
    // A message still queued is never pruned, however old.
    await p.admin.query(
      `INSERT INTO gateway.outbound_message (request_id, tenant_id, phone_number_id, recipient, lane, kind, priority, request, state, created_at)
       VALUES ($1, 'roads-agency', '310000000000001', '+5215500000000', '310000000000001:525500000000', 'text', 1, '{}', 'queued', now() - interval '400 days')`,
      [queuedId],
    );
    for (const schema of Object.keys(RULES)) {
      await p.admin.query(
        `INSERT INTO ${schema}.inbox (consumer, message_id, processed_at) VALUES ('c', 'old', now() - interval '400 days'), ('c', 'new', now() - interval '5 days')`,
      );
    }
    pruned = {};
    // Batches of 1: every rule has to loop to finish.
    for (const [schema, rules] of Object.entries(RULES)) pruned[schema] = await pruneAll(p.app[schema], schema, rules, tenantIds, 1);
  }, 120_000);

  afterAll(async () => {
    await p?.close();
  });

  it("deletes each tenant's rows past its own days, and rows of tenants gone from the file past the defaults", async () => {
    expect(pruned.ingress).toEqual({ 'ingress.media': 5, 'ingress.inbox': 1 });
    // roads-agency at 120 days; immigration-dept and the gone tenant keep theirs (180).
    expect(pruned.gateway).toEqual({
      'gateway.outbound_message': 1,
      'gateway.message_status': 1,
      'gateway.media_asset': 0,
      'gateway.inbox': 1,
    });
    // Sessions: roads-agency past 60 days (75, 120), the others past 90 (120). Profiles follow messagesDays.
    expect(pruned.chatbot).toEqual({ 'chatbot.session': 4, 'chatbot.citizen_profile': 1, 'chatbot.inbox': 1 });
    expect(pruned.scheduler).toEqual({ 'scheduler.notice': 0, 'scheduler.subject': 0, 'scheduler.daily_send': 5, 'scheduler.inbox': 1 });
    expect(pruned.templates).toEqual({ 'templates.inbox': 1 });
    expect(await count('gateway.outbound_message', `request_id = '${queuedId}'`)).toBe(1);
    expect(await count('chatbot.session', `tenant_id = 'roads-agency'`)).toBe(2);
    expect(await count('ingress.media')).toBe(1);
    expect(await count('chatbot.inbox')).toBe(1);
  });

  it('counts what it deleted in retention_pruned_rows_total{schema,table}', async () => {
    expect(await metric('chatbot', 'session')).toBe(4);
    expect(await metric('ingress', 'media')).toBe(5);
  });

  it('deletes nothing more on a second pass', async () => {
    for (const [schema, rules] of Object.entries(RULES)) {
      const again = await pruneAll(p.app[schema], schema, rules, tenantIds);
      expect(Object.values(again ?? {}).every((n) => n === 0)).toBe(true);
    }
  });

  it('prunes a schema in one replica at a time: another holding the lock means this one skips', async () => {
    const other = new Client({ connectionString: p.db.appUrl('chatbot') });
    await other.connect();
    try {
      await other.query(`SELECT pg_advisory_lock(hashtext('retention:chatbot'))`);
      expect(await pruneAll(p.app.chatbot, 'chatbot', RULES.chatbot, tenantIds)).toBeUndefined();
      await other.query(`SELECT pg_advisory_unlock(hashtext('retention:chatbot'))`);
      expect(await pruneAll(p.app.chatbot, 'chatbot', RULES.chatbot, tenantIds)).toBeDefined();
    } finally {
      await other.end();
    }
  });

  it("keeps inbox rows as long as the group's topics can replay them, and refuses compacted topics", () => {
    expect(inboxRetentionDays([Topics.inboundMessage])).toBe(8);
    expect(inboxRetentionDays([Topics.inboundMessage, Topics.conversationOwner])).toBe(31);
    expect(() => inboxRetentionDays([Topics.templateCatalog])).toThrow(/templates.catalog.v1 keep records forever/);
    expect(() => inboxRetentionDays([])).toThrow(/needs the topics/);
  });
});
