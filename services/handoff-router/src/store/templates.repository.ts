import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { TemplateCatalogEntryV1 } from '@wa/contracts';

export interface TemplateRow {
  name: string;
  language: string;
  status: string;
  category: string;
  parameterFormat: string;
  parameters: { component: string; name: string; type: string }[];
  components: Record<string, unknown>[];
}

const COLUMNS = `name, language, status, category, parameter_format AS "parameterFormat", parameters, components`;

/** `handoff.template`: the registry's catalog as the composer needs it (folded from templates.catalog.v1). */
@Injectable()
export class TemplateRepository {
  async upsert(m: EntityManager, e: TemplateCatalogEntryV1): Promise<void> {
    await m.query(
      `INSERT INTO handoff.template (tenant_id, name, language, status, category, parameter_format, parameters, components, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (tenant_id, name, language) DO UPDATE SET status = EXCLUDED.status, category = EXCLUDED.category,
         parameter_format = EXCLUDED.parameter_format, parameters = EXCLUDED.parameters, components = EXCLUDED.components,
         version = EXCLUDED.version
       WHERE template.version <= EXCLUDED.version`,
      [
        e.tenantId,
        e.name,
        e.language,
        e.status,
        e.category,
        e.parameterFormat,
        JSON.stringify(e.parameters),
        JSON.stringify(e.components),
        e.version,
      ],
    );
  }

  async get(m: EntityManager, tenantId: string, name: string, language: string): Promise<TemplateRow | undefined> {
    const rows: TemplateRow[] = await m.query(
      `SELECT ${COLUMNS} FROM handoff.template WHERE tenant_id = $1 AND name = $2 AND language = $3`,
      [tenantId, name, language],
    );
    return rows[0];
  }

  /** Approved templates in the language (exact, or the same base language). */
  async approved(m: EntityManager, tenantId: string, language: string): Promise<TemplateRow[]> {
    return m.query(
      `SELECT ${COLUMNS} FROM handoff.template WHERE tenant_id = $1 AND status = 'APPROVED'
          AND (language = $2 OR split_part(language, '_', 1) = split_part($2, '_', 1)) ORDER BY name, language`,
      [tenantId, language],
    );
  }
}
