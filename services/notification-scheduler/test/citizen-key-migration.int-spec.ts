import { Client } from 'pg';
import { createServiceDataSource, migrate } from '@wa/persistence';
import { createTestDatabase, type TestDatabase } from '@wa/testing';
import { notificationSchedulerService } from '../src/service';

/** Consent and daily counts written under a wa_id or a phone move to their citizen key. */
describe('scheduler migration to citizen keys on real Postgres', () => {
  let db: TestDatabase;
  let pg: Client;
  const migrations = notificationSchedulerService.migrations;
  const index = migrations.findIndex((m) => m.name === 'CitizenKey1764547200000');
  const options = () => ({ schema: 'scheduler', url: db.migratorUrl('scheduler'), entities: [] });

  beforeAll(async () => {
    db = await createTestDatabase(['scheduler']);
    await migrate({ ...options(), migrations: migrations.slice(0, index) });
    pg = new Client({ connectionString: db.adminUrl });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await db?.drop();
  });

  const at = (day: number) => new Date(Date.UTC(2026, 5, day));
  const rows = async (sql: string) => (await pg.query(sql)).rows;

  it('moves consent and per-day counts to citizen keys, merging rows of one citizen; down goes back', async () => {
    for (const c of [
      // A STOP from a Mexican wa_id and an older opt-in by the E.164 number's digits: one citizen.
      ['roads-agency', '5215512345678', 'utility', 'opted_out', 'whatsapp-keyword', at(2)],
      ['roads-agency', '525512345678', 'utility', 'opted_in', 'web', at(1)],
      // A Brazilian number's digits with the ninth digit, and a wa_id without it.
      ['roads-agency', '5511987654321', 'all', 'opted_out', 'web', at(3)],
      ['roads-agency', '551187654321', 'all', 'opted_in', 'whatsapp-keyword', at(4)],
      ['roads-agency', '573001234567', 'marketing', 'opted_out', 'web', at(3)],
    ])
      await pg.query(
        `INSERT INTO scheduler.consent (tenant_id, wa_id, category, state, channel, occurred_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        c,
      );
    for (const [whatsapp, sent] of [
      ['+5215512345678', 1],
      ['+525512345678', 2],
      ['+5511987654321', 1],
      ['+573001234567', 3],
    ] as const)
      await pg.query(`INSERT INTO scheduler.daily_send (tenant_id, whatsapp, day, sent) VALUES ('roads-agency', $1, '2026-06-01', $2)`, [
        whatsapp,
        sent,
      ]);

    expect((await migrate({ ...options(), migrations: migrations.slice(0, index + 1) })).applied).toEqual(['CitizenKey1764547200000']);

    expect(await rows(`SELECT citizen_key, category, state, occurred_at FROM scheduler.consent ORDER BY citizen_key, category`)).toEqual([
      { citizen_key: '525512345678', category: 'utility', state: 'opted_out', occurred_at: at(2) },
      { citizen_key: '551187654321', category: 'all', state: 'opted_in', occurred_at: at(4) },
      { citizen_key: '573001234567', category: 'marketing', state: 'opted_out', occurred_at: at(3) },
    ]);
    expect(await rows(`SELECT citizen_key, sent FROM scheduler.daily_send ORDER BY citizen_key`)).toEqual([
      { citizen_key: '525512345678', sent: 3 },
      { citizen_key: '551187654321', sent: 1 },
      { citizen_key: '573001234567', sent: 3 },
    ]);

    await pg.query(
      `INSERT INTO scheduler.consent (tenant_id, citizen_key, category, state, channel, occurred_at)
       VALUES ('roads-agency', 'bsuid:CO.1', 'all', 'opted_out', 'whatsapp-keyword', now())`,
    );
    const owner = await createServiceDataSource({
      ...options(),
      migrations: migrations.slice(0, index + 1),
      asOwner: true,
      poolSize: 1,
    }).initialize();
    try {
      await owner.undoLastMigration({ transaction: 'each' });
    } finally {
      await owner.destroy();
    }
    expect(await rows(`SELECT wa_id FROM scheduler.consent ORDER BY 1`)).toEqual(
      ['525512345678', '551187654321', '573001234567'].map((wa_id) => ({ wa_id })),
    );
    expect(await rows(`SELECT whatsapp, sent FROM scheduler.daily_send ORDER BY whatsapp`)).toEqual([
      { whatsapp: '+525512345678', sent: 3 },
      { whatsapp: '+551187654321', sent: 1 },
      { whatsapp: '+573001234567', sent: 3 },
    ]);
  });
});
