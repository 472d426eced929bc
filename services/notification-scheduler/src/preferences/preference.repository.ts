import type { EntityManager } from 'typeorm';

export interface PreferenceChoice {
  tenantId: string;
  citizenKey: string;
  language: string;
  chosenAt: string;
  source: string;
}

/** `scheduler.citizen_preference`: the language each citizen chose in the chatbot. */
export const preferenceRepository = {
  /** The newest choice wins: a replayed or late older record changes nothing. */
  async record(m: EntityManager, p: PreferenceChoice): Promise<void> {
    await m.query(
      `INSERT INTO scheduler.citizen_preference (tenant_id, citizen_key, language, chosen_at, source) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, citizen_key) DO UPDATE SET language = EXCLUDED.language, chosen_at = EXCLUDED.chosen_at,
         source = EXCLUDED.source, updated_at = now()
       WHERE citizen_preference.chosen_at <= EXCLUDED.chosen_at`,
      [p.tenantId, p.citizenKey, p.language, p.chosenAt, p.source],
    );
  },

  /** A tombstone, or the citizen's erasure: the choice is forgotten. */
  async forget(m: EntityManager, tenantId: string, citizenKey: string): Promise<void> {
    await m.query('DELETE FROM scheduler.citizen_preference WHERE tenant_id = $1 AND citizen_key = $2', [tenantId, citizenKey]);
  },

  /** The chosen languages of these citizens, by `tenant|citizenKey`: one query for a whole sweep. */
  async languagesOf(m: EntityManager, citizens: [tenantId: string, citizenKey: string][]): Promise<Map<string, string>> {
    if (citizens.length === 0) return new Map();
    const rows: { tenant_id: string; citizen_key: string; language: string }[] = await m.query(
      `SELECT p.tenant_id, p.citizen_key, p.language FROM scheduler.citizen_preference p
       JOIN unnest($1::text[], $2::text[]) AS c(tenant_id, citizen_key) ON p.tenant_id = c.tenant_id AND p.citizen_key = c.citizen_key`,
      [citizens.map((c) => c[0]), citizens.map((c) => c[1])],
    );
    return new Map(rows.map((r) => [`${r.tenant_id}|${r.citizen_key}`, r.language]));
  },
};
