import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Client } from 'pg';
import { canonicalDigits, canonicalDigitsSql } from '@wa/contracts';
import { createServiceDataSource, migrate } from '@wa/persistence';
import { createTestDatabase, type TestDatabase } from '@wa/testing';
import { outboundGatewayService } from '../src/service';

/** Rows written under the old spellings (wa_id, phone digits, bare BSUID) move to their citizen key. */
describe('gateway migration to citizen keys on real Postgres', () => {
  let db: TestDatabase;
  let pg: Client;
  const migrations = outboundGatewayService.migrations;
  const index = migrations.findIndex((m) => m.name === 'CitizenKey1764547200000');
  const options = () => ({ schema: 'gateway', url: db.migratorUrl('gateway'), entities: [] });

  beforeAll(async () => {
    db = await createTestDatabase(['gateway']);
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

  it('canonicalises in SQL exactly as canonicalDigits does', async () => {
    const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
    const values = fc.sample(
      fc.oneof(
        digits(6, 15),
        digits(10, 10).map((d) => `521${d}`),
        digits(10, 10).map((d) => `52${d}`),
        fc.tuple(digits(2, 2), digits(8, 8)).map(([area, n]) => `55${area}9${n}`),
        fc.tuple(digits(2, 2), digits(8, 8)).map(([area, n]) => `55${area}${n}`),
      ),
      2000,
    );
    const found = await rows(`SELECT v, ${canonicalDigitsSql('v')} AS c FROM unnest(ARRAY[${values.map((v) => `'${v}'`).join(',')}]) v`);
    expect(found.filter((r) => r.c !== canonicalDigits(r.v))).toEqual([]);
  });

  it('moves windows, consent, messages and pacing lanes to citizen keys, merging rows of one citizen; down goes back', async () => {
    const consent = [
      // One Mexican citizen under two spellings: the newest choice wins.
      ['roads-agency', '5215512345678', 'utility', 'opted_out', 'whatsapp-keyword', at(2)],
      ['roads-agency', '525512345678', 'utility', 'opted_in', 'web', at(1)],
      // Another, where the row already under the key is newer.
      ['roads-agency', '5215599999999', 'utility', 'opted_out', 'whatsapp-keyword', at(1)],
      ['roads-agency', '525599999999', 'utility', 'opted_in', 'web', at(5)],
      // A Brazilian E.164 number's digits (with the ninth digit) and a BSUID-only citizen.
      ['roads-agency', '5511987654321', 'utility', 'opted_out', 'whatsapp-keyword', at(3)],
      ['roads-agency', 'CO.13491208655302741918', 'all', 'opted_out', 'whatsapp-keyword', at(3)],
      ['roads-agency', '573001234567', 'marketing', 'opted_out', 'web', at(3)],
      // Another tenant's row of the same person stays that tenant's.
      ['immigration', '5215512345678', 'utility', 'opted_in', 'web', at(4)],
    ];
    for (const c of consent)
      await pg.query(
        `INSERT INTO gateway.consent (tenant_id, wa_id, category, state, channel, occurred_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        c,
      );
    for (const [waId, phone, day] of [
      ['5215512345678', 'PN1', 3],
      ['525512345678', 'PN1', 1],
      ['525512345678', 'PN2', 2],
      ['CO.1', 'PN1', 4],
    ] as const)
      await pg.query(`INSERT INTO gateway.contact_window (tenant_id, wa_id, phone_number_id, last_inbound_at) VALUES ($1, $2, $3, $4)`, [
        'roads-agency',
        waId,
        phone,
        at(day),
      ]);
    const messages = ['5215512345678', '5511987654321', '573001234567', 'CO.1', ''];
    for (const recipient of messages)
      await pg.query(
        `INSERT INTO gateway.outbound_message (request_id, tenant_id, phone_number_id, recipient, lane, kind, priority, request, state)
         VALUES ($1, 'roads-agency', 'PN1', $2, 'PN1:' || $2, 'text', 0, '{}', 'queued')`,
        [randomUUID(), recipient],
      );
    for (const [lane, day] of [
      ['PN1:5215512345678', 2],
      ['PN1:525512345678', 1],
      ['PN1:5511987654321', 1],
      ['PN1:573001234567', 1],
    ] as const)
      await pg.query(`INSERT INTO gateway.pair_pacing (lane, tat) VALUES ($1, $2)`, [lane, at(day)]);

    expect((await migrate({ ...options(), migrations: migrations.slice(0, index + 1) })).applied).toEqual(['CitizenKey1764547200000']);

    expect(
      await rows(
        `SELECT tenant_id, citizen_key, category, state, occurred_at FROM gateway.consent ORDER BY tenant_id, citizen_key, category`,
      ),
    ).toEqual([
      { tenant_id: 'immigration', citizen_key: '525512345678', category: 'utility', state: 'opted_in', occurred_at: at(4) },
      { tenant_id: 'roads-agency', citizen_key: '525512345678', category: 'utility', state: 'opted_out', occurred_at: at(2) },
      { tenant_id: 'roads-agency', citizen_key: '525599999999', category: 'utility', state: 'opted_in', occurred_at: at(5) },
      { tenant_id: 'roads-agency', citizen_key: '551187654321', category: 'utility', state: 'opted_out', occurred_at: at(3) },
      { tenant_id: 'roads-agency', citizen_key: '573001234567', category: 'marketing', state: 'opted_out', occurred_at: at(3) },
      { tenant_id: 'roads-agency', citizen_key: 'bsuid:CO.13491208655302741918', category: 'all', state: 'opted_out', occurred_at: at(3) },
    ]);
    expect(await rows(`SELECT citizen_key, phone_number_id, last_inbound_at FROM gateway.contact_window ORDER BY 1, 2`)).toEqual([
      { citizen_key: '525512345678', phone_number_id: 'PN1', last_inbound_at: at(3) },
      { citizen_key: '525512345678', phone_number_id: 'PN2', last_inbound_at: at(2) },
      { citizen_key: 'bsuid:CO.1', phone_number_id: 'PN1', last_inbound_at: at(4) },
    ]);
    expect(await rows(`SELECT recipient, lane FROM gateway.outbound_message ORDER BY seq`)).toEqual([
      { recipient: '525512345678', lane: 'PN1:525512345678' },
      { recipient: '551187654321', lane: 'PN1:551187654321' },
      { recipient: '573001234567', lane: 'PN1:573001234567' },
      { recipient: 'bsuid:CO.1', lane: 'PN1:bsuid:CO.1' },
      { recipient: '', lane: 'PN1:' },
    ]);
    expect(await rows(`SELECT lane, tat FROM gateway.pair_pacing ORDER BY lane`)).toEqual([
      { lane: 'PN1:525512345678', tat: at(2) },
      { lane: 'PN1:551187654321', tat: at(1) },
      { lane: 'PN1:573001234567', tat: at(1) },
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
    expect(await rows(`SELECT wa_id FROM gateway.consent WHERE tenant_id = 'roads-agency' ORDER BY 1`)).toEqual(
      ['525512345678', '525599999999', '551187654321', '573001234567', 'CO.13491208655302741918'].map((wa_id) => ({ wa_id })),
    );
    expect(await rows(`SELECT DISTINCT wa_id FROM gateway.contact_window ORDER BY 1`)).toEqual([
      { wa_id: '525512345678' },
      { wa_id: 'CO.1' },
    ]);
    expect((await rows(`SELECT recipient, lane FROM gateway.outbound_message ORDER BY seq`))[3]).toEqual({
      recipient: 'CO.1',
      lane: 'PN1:CO.1',
    });
  });
});
