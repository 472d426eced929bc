import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrate } from '@wa/persistence';
import { createTestDatabase, type TestDatabase } from '@wa/testing';

class CreateNotes1764115200000 implements MigrationInterface {
  name = 'CreateNotes1764115200000';
  async up(queryRunner: QueryRunner): Promise<void> {
    // Slow on purpose so concurrent migrators overlap.
    await queryRunner.query('SELECT pg_sleep(0.3)');
    await queryRunner.query(`CREATE TABLE "alpha"."note" (id serial PRIMARY KEY, body text NOT NULL)`);
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "alpha"."note"`);
  }
}

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('per-service schemas, roles and migrations', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(['alpha', 'beta']);
  });

  afterAll(async () => {
    await db.drop();
  });

  it('applies a migration once when several migrators race (advisory lock)', async () => {
    const runs = await Promise.all(
      [1, 2, 3].map(() => migrate({ schema: 'alpha', url: db.migratorUrl('alpha'), entities: [], migrations: [CreateNotes1764115200000] })),
    );
    expect(runs.flatMap((r) => r.applied)).toEqual(['CreateNotes1764115200000']);
    const owner = await query(db.adminUrl, `SELECT tableowner FROM pg_tables WHERE schemaname = 'alpha' AND tablename = 'note'`);
    expect(owner).toEqual([{ tableowner: 'alpha_owner' }]);
  });

  it("lets a service's app role change rows in its own schema, not its structure", async () => {
    await query(db.appUrl('alpha'), `INSERT INTO alpha.note (body) VALUES ('hello')`);
    expect(await query(db.appUrl('alpha'), 'SELECT body FROM note')).toEqual([{ body: 'hello' }]);
    await expect(query(db.appUrl('alpha'), 'CREATE TABLE alpha.sneaky (id int)')).rejects.toMatchObject({ code: '42501' });
    await expect(query(db.appUrl('alpha'), 'DROP TABLE alpha.note')).rejects.toMatchObject({ code: '42501' });
  });

  it('keeps the migrations table read-only for the app role', async () => {
    expect(await query(db.appUrl('alpha'), 'SELECT name FROM alpha.migrations')).toEqual([{ name: 'CreateNotes1764115200000' }]);
    await expect(query(db.appUrl('alpha'), `DELETE FROM alpha.migrations`)).rejects.toMatchObject({ code: '42501' });
    await expect(query(db.appUrl('alpha'), `INSERT INTO alpha.migrations ("timestamp", name) VALUES (1, 'Skip1')`)).rejects.toMatchObject({
      code: '42501',
    });
    await expect(query(db.appUrl('alpha'), `UPDATE alpha.migrations SET name = 'x'`)).rejects.toMatchObject({ code: '42501' });
  });

  it('lets only the platform roles connect, and no role make temporary tables', async () => {
    const outsider = `outsider_${Date.now()}`;
    await query(db.adminUrl, `CREATE ROLE ${outsider} LOGIN PASSWORD 'outsider-password'`);
    try {
      const outsiderUrl = new URL(db.adminUrl);
      outsiderUrl.username = outsider;
      outsiderUrl.password = 'outsider-password';
      await expect(query(outsiderUrl.toString(), 'SELECT 1')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await query(db.adminUrl, `DROP ROLE ${outsider}`);
    }
    await expect(query(db.appUrl('alpha'), 'CREATE TEMP TABLE scratch (id int)')).rejects.toMatchObject({ code: '42501' });
  });

  it("refuses one service's app role access to another service's schema", async () => {
    await expect(query(db.appUrl('beta'), 'SELECT * FROM alpha.note')).rejects.toMatchObject({ code: '42501' });
    await expect(query(db.appUrl('beta'), `INSERT INTO alpha.note (body) VALUES ('x')`)).rejects.toMatchObject({ code: '42501' });
    await expect(query(db.migratorUrl('beta'), 'SELECT * FROM alpha.note')).rejects.toMatchObject({ code: '42501' });
    await expect(query(db.appUrl('beta'), 'CREATE TABLE public.stray (id int)')).rejects.toMatchObject({ code: '42501' });
  });
});
