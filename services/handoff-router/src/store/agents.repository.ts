import { returning } from './sql';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AgentLoad, Presence } from '../rules/assignment';

export interface AgentRow {
  tenantId: string;
  id: string;
  name: string;
  role: 'agent' | 'supervisor';
  departments: string[];
  languages: string[];
  capacity: number;
  presence: Presence;
  lastSeenAt: Date | null;
  lastAssignedAt: Date | null;
  active: boolean;
  version: number;
}

export interface AgentInput {
  name: string;
  role: 'agent' | 'supervisor';
  departments: string[];
  languages: string[];
  capacity: number;
  active: boolean;
}

const COLUMNS = `tenant_id AS "tenantId", id, name, role, departments, languages, capacity, presence,
  last_seen_at AS "lastSeenAt", last_assigned_at AS "lastAssignedAt", active, version`;

/** `handoff.agent`: people who answer citizens, their skills, capacity and presence. */
@Injectable()
export class AgentRepository {
  async get(m: EntityManager, tenantId: string, id: string): Promise<AgentRow | undefined> {
    const rows: AgentRow[] = await m.query(`SELECT ${COLUMNS} FROM handoff.agent WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return rows[0];
  }

  async list(m: EntityManager, tenantId: string): Promise<(AgentRow & { load: number })[]> {
    return m.query(
      `SELECT ${COLUMNS}, (SELECT count(*)::int FROM handoff.conversation c
          WHERE c.tenant_id = a.tenant_id AND c.agent_id = a.id AND c.state = 'assigned') AS load
         FROM handoff.agent a WHERE tenant_id = $1 ORDER BY id`,
      [tenantId],
    );
  }

  /** Online agents with their current load, for one assignment pass (under the tenant's lock). */
  async loads(m: EntityManager, tenantId: string): Promise<AgentLoad[]> {
    const rows: (AgentLoad & { lastAssignedAt: Date | null })[] = await m.query(
      `SELECT a.id, a.presence, a.departments, a.languages, a.capacity, a.last_assigned_at AS "lastAssignedAt",
              count(c.id)::int AS load
         FROM handoff.agent a
         LEFT JOIN handoff.conversation c ON c.tenant_id = a.tenant_id AND c.agent_id = a.id AND c.state = 'assigned'
        WHERE a.tenant_id = $1 AND a.active AND a.presence = 'online'
        GROUP BY a.tenant_id, a.id`,
      [tenantId],
    );
    return rows;
  }

  async load(m: EntityManager, tenantId: string, id: string): Promise<number> {
    const [row]: { n: number }[] = await m.query(
      `SELECT count(*)::int AS n FROM handoff.conversation WHERE tenant_id = $1 AND agent_id = $2 AND state = 'assigned'`,
      [tenantId, id],
    );
    return row.n;
  }

  async upsert(m: EntityManager, tenantId: string, id: string, a: AgentInput, expectedVersion?: number): Promise<AgentRow | 'conflict'> {
    const rows: AgentRow[] = await m.query(
      `INSERT INTO handoff.agent (tenant_id, id, name, role, departments, languages, capacity, active)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (tenant_id, id) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role, departments = EXCLUDED.departments,
         languages = EXCLUDED.languages, capacity = EXCLUDED.capacity, active = EXCLUDED.active, version = agent.version + 1
         WHERE $9::int IS NULL OR agent.version = $9::int
       RETURNING ${COLUMNS}`,
      [tenantId, id, a.name, a.role, a.departments, a.languages, a.capacity, a.active, expectedVersion ?? null],
    );
    return rows[0] ?? 'conflict';
  }

  async delete(m: EntityManager, tenantId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await returning(m, `DELETE FROM handoff.agent WHERE tenant_id = $1 AND id = $2 RETURNING 1`, [tenantId, id]);
    return rows.length > 0;
  }

  /** A heartbeat: seen now, with the presence the console declares. Returns the previous presence. */
  async heartbeat(m: EntityManager, tenantId: string, id: string, presence: Presence, now: Date): Promise<Presence | undefined> {
    const rows: { previous: Presence }[] = await returning(
      m,
      `UPDATE handoff.agent a SET presence = $3, last_seen_at = $4
         FROM (SELECT presence AS previous FROM handoff.agent WHERE tenant_id = $1 AND id = $2 FOR UPDATE) p
        WHERE a.tenant_id = $1 AND a.id = $2 RETURNING p.previous`,
      [tenantId, id, presence, now],
    );
    return rows[0]?.previous;
  }

  async setPresence(m: EntityManager, tenantId: string, id: string, presence: Presence): Promise<void> {
    await returning(m, `UPDATE handoff.agent SET presence = $3 WHERE tenant_id = $1 AND id = $2`, [tenantId, id, presence]);
  }

  async markAssigned(m: EntityManager, tenantId: string, id: string, at: Date): Promise<void> {
    await returning(m, `UPDATE handoff.agent SET last_assigned_at = $3 WHERE tenant_id = $1 AND id = $2`, [tenantId, id, at]);
  }

  /** Agents whose heartbeat stopped: claimed one at a time across replicas. */
  async staleOne(m: EntityManager, quietSince: Date, presence: Presence[]): Promise<AgentRow | undefined> {
    const rows: AgentRow[] = await m.query(
      `SELECT ${COLUMNS} FROM handoff.agent WHERE presence = ANY($2) AND (last_seen_at IS NULL OR last_seen_at < $1)
        LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [quietSince, presence],
    );
    return rows[0];
  }
}
