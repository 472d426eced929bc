import type { EntityManager } from 'typeorm';

export interface ConsentChoice {
  tenantId: string;
  citizenKey: string;
  category: string;
  state: 'opted_in' | 'opted_out';
  channel: string;
  occurredAt: string;
}

/** `scheduler.consent`: the latest consent state per citizen key and category. */
export const consentRepository = {
  /**
   * Occurrence time decides, not arrival order, so a late opt-in cannot undo a newer opt-out (and
   * a replay changes nothing). A choice for `all` is also the latest word on each category (an
   * opt-in to everything lifts an earlier utility opt-out); a category choice leaves the others alone.
   */
  async record(m: EntityManager, c: ConsentChoice): Promise<void> {
    const categories = c.category === 'all' ? ['all', 'utility', 'marketing'] : [c.category];
    await m.query(
      `INSERT INTO scheduler.consent (tenant_id, citizen_key, category, state, channel, occurred_at)
       SELECT $1, $2, category, $4, $5, $6 FROM unnest($3::text[]) AS category
       ON CONFLICT (tenant_id, citizen_key, category) DO UPDATE SET state = EXCLUDED.state, channel = EXCLUDED.channel, occurred_at = EXCLUDED.occurred_at
       WHERE consent.occurred_at <= EXCLUDED.occurred_at`,
      [c.tenantId, c.citizenKey, categories, c.state, c.channel, c.occurredAt],
    );
  },

  /** Citizens with an opt-out, by `tenant|citizenKey` → categories: one query for a whole sweep. */
  async optOutsOf(m: EntityManager, citizens: [tenantId: string, citizenKey: string][]): Promise<Map<string, Set<string>>> {
    const found: { tenant_id: string; citizen_key: string; category: string }[] = await m.query(
      `SELECT c.tenant_id, c.citizen_key, c.category FROM scheduler.consent c
       JOIN unnest($1::text[], $2::text[]) AS p(tenant_id, citizen_key) ON c.tenant_id = p.tenant_id AND c.citizen_key = p.citizen_key
       WHERE c.state = 'opted_out'`,
      [citizens.map((p) => p[0]), citizens.map((p) => p[1])],
    );
    const out = new Map<string, Set<string>>();
    for (const f of found) {
      const key = `${f.tenant_id}|${f.citizen_key}`;
      out.set(key, (out.get(key) ?? new Set()).add(f.category));
    }
    return out;
  },
};
