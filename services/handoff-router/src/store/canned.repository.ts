import { returning } from './sql';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface CannedRow {
  id: string;
  language: string;
  title: string;
  text: string;
  version: number;
}

/** `handoff.canned_response`: a tenant's prepared answers, one row per language. */
@Injectable()
export class CannedRepository {
  async list(m: EntityManager, tenantId: string, language?: string): Promise<CannedRow[]> {
    return m.query(
      `SELECT id, language, title, text, version FROM handoff.canned_response
        WHERE tenant_id = $1 AND ($2::text IS NULL OR language = $2 OR split_part(language, '_', 1) = split_part($2, '_', 1))
        ORDER BY id, language`,
      [tenantId, language ?? null],
    );
  }

  async put(m: EntityManager, tenantId: string, row: Omit<CannedRow, 'version'>): Promise<CannedRow> {
    const [saved]: CannedRow[] = await m.query(
      `INSERT INTO handoff.canned_response (tenant_id, id, language, title, text) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, id, language) DO UPDATE SET title = EXCLUDED.title, text = EXCLUDED.text,
         version = canned_response.version + 1
       RETURNING id, language, title, text, version`,
      [tenantId, row.id, row.language, row.title, row.text],
    );
    return saved;
  }

  async delete(m: EntityManager, tenantId: string, id: string, language: string): Promise<boolean> {
    const rows: unknown[] = await returning(
      m,
      `DELETE FROM handoff.canned_response WHERE tenant_id = $1 AND id = $2 AND language = $3 RETURNING 1`,
      [tenantId, id, language],
    );
    return rows.length > 0;
  }
}
