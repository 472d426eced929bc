import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface TenantSettings {
  tenantId: string;
  retentionDays: number;
  survey: boolean;
  version: number;
}

const DEFAULTS = { retentionDays: 90, survey: true, version: 0 };

/** `handoff.tenant_setting`: transcript retention and the satisfaction survey, per tenant. */
@Injectable()
export class SettingsRepository {
  async get(m: EntityManager, tenantId: string): Promise<TenantSettings> {
    const rows: TenantSettings[] = await m.query(
      `SELECT tenant_id AS "tenantId", retention_days AS "retentionDays", survey, version FROM handoff.tenant_setting WHERE tenant_id = $1`,
      [tenantId],
    );
    return rows[0] ?? { tenantId, ...DEFAULTS };
  }

  async all(m: EntityManager): Promise<TenantSettings[]> {
    return m.query(`SELECT tenant_id AS "tenantId", retention_days AS "retentionDays", survey, version FROM handoff.tenant_setting`);
  }

  async put(
    m: EntityManager,
    tenantId: string,
    s: { retentionDays: number; survey: boolean },
    expectedVersion?: number,
  ): Promise<TenantSettings | 'conflict'> {
    const rows: TenantSettings[] = await m.query(
      `INSERT INTO handoff.tenant_setting (tenant_id, retention_days, survey) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id) DO UPDATE SET retention_days = EXCLUDED.retention_days, survey = EXCLUDED.survey,
         version = tenant_setting.version + 1, updated_at = now()
         WHERE $4::int IS NULL OR tenant_setting.version = $4::int
       RETURNING tenant_id AS "tenantId", retention_days AS "retentionDays", survey, version`,
      [tenantId, s.retentionDays, s.survey, expectedVersion ?? null],
    );
    return rows[0] ?? 'conflict';
  }
}
