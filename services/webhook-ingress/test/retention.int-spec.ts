import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createServiceDataSource, migrate } from '@wa/persistence';
import { createTestDatabase, type TestDatabase } from '@wa/testing';
import type { IngressEnv } from '../src/config/env';
import { RetentionPruner } from '../src/normalizer/retention-pruner';
import { ingressService } from '../src/service';

/** Dedupe keys and archived raw bodies leave after their retention; nothing younger does. */
describe('ingress retention on real Postgres', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(['ingress']);
    await migrate({ schema: 'ingress', url: db.migratorUrl('ingress'), entities: [], migrations: ingressService.migrations });
    dataSource = await createServiceDataSource({
      schema: 'ingress',
      url: db.appUrl('ingress'),
      entities: ingressService.entities,
    }).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  /** `count` rows in each table, `daysAgo` old. */
  async function seed(count: number, daysAgo: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const rawId = randomUUID();
      await dataSource.query(
        `INSERT INTO ingress.raw_webhook (event_id, tenant_id, app_id, received_at, body) VALUES ($1, 'roads-agency', 'roads-app', now() - make_interval(days => $2), '{}')`,
        [rawId, daysAgo],
      );
      await dataSource.query(
        `INSERT INTO ingress.webhook_dedupe (tenant_id, kind, dedupe_key, event_id, raw_event_id, first_seen_at)
         VALUES ('roads-agency', 'message', $1, $2, $3, now() - make_interval(days => $4))`,
        [`wamid.${rawId}`, randomUUID(), rawId, daysAgo],
      );
    }
  }
  const rows = async (table: string) => Number((await dataSource.query(`SELECT count(*)::int AS n FROM ingress.${table}`))[0].n);
  const pruner = (env: Partial<IngressEnv>) =>
    new RetentionPruner(dataSource, { DEDUPE_RETENTION_DAYS: 30, RAW_ARCHIVE_RETENTION_DAYS: 90, ...env } as IngressEnv);

  it('deletes dedupe keys past DEDUPE_RETENTION_DAYS and raw bodies past RAW_ARCHIVE_RETENTION_DAYS', async () => {
    await seed(3, 120); // past both
    await seed(4, 45); // past the dedupe retention only
    await seed(5, 1);
    expect(await pruner({}).prune()).toEqual({ dedupeKeys: 7, rawWebhooks: 3 });
    expect(await rows('webhook_dedupe')).toBe(5);
    expect(await rows('raw_webhook')).toBe(9);
    expect(await pruner({}).prune()).toEqual({ dedupeKeys: 0, rawWebhooks: 0 });
  });

  it('keeps raw bodies forever with RAW_ARCHIVE_RETENTION_DAYS=0', async () => {
    await seed(2, 400);
    expect(await pruner({ RAW_ARCHIVE_RETENTION_DAYS: 0 }).prune()).toEqual({ dedupeKeys: 2, rawWebhooks: 0 });
    expect(await rows('raw_webhook')).toBe(11);
  });
});
