import { Client } from 'pg';
import { createServiceDataSource, migrate } from '@wa/persistence';
import { createTestDatabase, type TestDatabase } from '@wa/testing';
import { chatbotService } from '../src/service';

/** Contacts written under a wa_id or a bare BSUID move to their citizen key. */
describe('chatbot migration to citizen keys on real Postgres', () => {
  let db: TestDatabase;
  let pg: Client;
  const migrations = chatbotService.migrations;
  const index = migrations.findIndex((m) => m.name === 'CitizenKey1764547200000');
  const options = () => ({ schema: 'chatbot', url: db.migratorUrl('chatbot'), entities: [] });

  beforeAll(async () => {
    db = await createTestDatabase(['chatbot']);
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

  it('moves contacts to citizen keys, merging rows of one citizen; down goes back', async () => {
    for (const c of [
      // One Mexican citizen under the wa_id and under the number's digits.
      ['5215512345678', 'Ana', at(2)],
      ['525512345678', 'Ana María', at(3)],
      // One Brazilian citizen: the newer row has no name, the older one does.
      ['5511987654321', null, at(5)],
      ['551187654321', 'João', at(1)],
      ['CO.13491208655302741918', 'ana.user', at(4)],
      ['573001234567', 'Luis', at(1)],
    ])
      await pg.query(
        `INSERT INTO chatbot.contact (tenant_id, wa_id, profile_name, last_message_at) VALUES ('roads-agency', $1, $2, $3)`,
        c,
      );

    await migrate({ ...options(), migrations: migrations.slice(0, index + 1) });

    expect(await rows(`SELECT citizen_key, profile_name, last_message_at FROM chatbot.contact ORDER BY citizen_key`)).toEqual([
      { citizen_key: '525512345678', profile_name: 'Ana María', last_message_at: at(3) },
      { citizen_key: '551187654321', profile_name: 'João', last_message_at: at(5) },
      { citizen_key: '573001234567', profile_name: 'Luis', last_message_at: at(1) },
      { citizen_key: 'bsuid:CO.13491208655302741918', profile_name: 'ana.user', last_message_at: at(4) },
    ]);

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
    expect(await rows(`SELECT wa_id FROM chatbot.contact ORDER BY 1`)).toEqual(
      ['525512345678', '551187654321', '573001234567', 'CO.13491208655302741918'].map((wa_id) => ({ wa_id })),
    );
  });

  it('turns the remaining contacts into citizen profiles and drops the contact table', async () => {
    await migrate({ ...options(), migrations: migrations.slice(0, index + 1) });
    await migrate({ ...options(), migrations });
    expect(
      await rows(`SELECT citizen_key, contact, profile_name, last_inbound_at FROM chatbot.citizen_profile ORDER BY citizen_key`),
    ).toEqual([
      { citizen_key: '525512345678', contact: { waId: '525512345678' }, profile_name: 'Ana María', last_inbound_at: at(3) },
      { citizen_key: '551187654321', contact: { waId: '551187654321' }, profile_name: 'João', last_inbound_at: at(5) },
      { citizen_key: '573001234567', contact: { waId: '573001234567' }, profile_name: 'Luis', last_inbound_at: at(1) },
      {
        citizen_key: 'bsuid:CO.13491208655302741918',
        contact: { bsuid: 'CO.13491208655302741918' },
        profile_name: 'ana.user',
        last_inbound_at: at(4),
      },
    ]);
    expect(await rows(`SELECT to_regclass('chatbot.contact') AS t`)).toEqual([{ t: null }]);
  });
});
