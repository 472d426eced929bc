import { returning } from './sql';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface DepartmentRow {
  tenantId: string;
  id: string;
  names: Record<string, string>;
  slaSeconds: number;
  widenLanguages: boolean;
  widenDepartments: string[];
  maxQueue: number | null;
  version: number;
}

export type DepartmentInput = Omit<DepartmentRow, 'tenantId' | 'id' | 'version'>;

const COLUMNS = `tenant_id AS "tenantId", id, names, sla_seconds AS "slaSeconds", widen_languages AS "widenLanguages",
  widen_departments AS "widenDepartments", max_queue AS "maxQueue", version`;

/** `handoff.department`: a tenant's queues, their names per language, SLA and widening. */
@Injectable()
export class DepartmentRepository {
  async get(m: EntityManager, tenantId: string, id: string): Promise<DepartmentRow | undefined> {
    const rows: DepartmentRow[] = await m.query(`SELECT ${COLUMNS} FROM handoff.department WHERE tenant_id = $1 AND id = $2`, [
      tenantId,
      id,
    ]);
    return rows[0];
  }

  async list(m: EntityManager, tenantId: string): Promise<DepartmentRow[]> {
    return m.query(`SELECT ${COLUMNS} FROM handoff.department WHERE tenant_id = $1 ORDER BY id`, [tenantId]);
  }

  async all(m: EntityManager): Promise<DepartmentRow[]> {
    return m.query(`SELECT ${COLUMNS} FROM handoff.department`);
  }

  async upsert(
    m: EntityManager,
    tenantId: string,
    id: string,
    d: DepartmentInput,
    expectedVersion?: number,
  ): Promise<DepartmentRow | 'conflict'> {
    const rows: DepartmentRow[] = await m.query(
      `INSERT INTO handoff.department (tenant_id, id, names, sla_seconds, widen_languages, widen_departments, max_queue)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (tenant_id, id) DO UPDATE SET names = EXCLUDED.names, sla_seconds = EXCLUDED.sla_seconds,
         widen_languages = EXCLUDED.widen_languages, widen_departments = EXCLUDED.widen_departments,
         max_queue = EXCLUDED.max_queue, version = department.version + 1
         WHERE $8::int IS NULL OR department.version = $8::int
       RETURNING ${COLUMNS}`,
      [tenantId, id, JSON.stringify(d.names), d.slaSeconds, d.widenLanguages, d.widenDepartments, d.maxQueue, expectedVersion ?? null],
    );
    return rows[0] ?? 'conflict';
  }

  async delete(m: EntityManager, tenantId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await returning(m, `DELETE FROM handoff.department WHERE tenant_id = $1 AND id = $2 RETURNING 1`, [
      tenantId,
      id,
    ]);
    return rows.length > 0;
  }
}

/** The department's name in the citizen's language (base language, then the first one given). */
export function departmentName(d: Pick<DepartmentRow, 'names' | 'id'>, language: string): string {
  return d.names[language] ?? d.names[language.split('_')[0]] ?? Object.values(d.names)[0] ?? d.id;
}
