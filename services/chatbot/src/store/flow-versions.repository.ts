import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { FlowDefinition } from '../flows/flow.types';

export type FlowVersionState = 'draft' | 'published' | 'retired';

export interface FlowVersionRow {
  tenantId: string;
  flow: string;
  version: number;
  state: FlowVersionState;
  definition: FlowDefinition;
  source: string;
  sourceSha256: string;
  createdAt: Date;
  createdBy: string;
  publishedAt: Date | null;
  publishedBy: string | null;
  rolledBackAt: Date | null;
}

const COLUMNS = `tenant_id AS "tenantId", flow, version, state, definition, source, source_sha256 AS "sourceSha256",
  created_at AS "createdAt", created_by AS "createdBy", published_at AS "publishedAt", published_by AS "publishedBy",
  rolled_back_at AS "rolledBackAt"`;

/** `chatbot.flow_version`: every version of every flow of every tenant. Every query names the tenant. */
@Injectable()
export class FlowVersionRepository {
  constructor(private readonly dataSource: DataSource) {}

  private q(manager?: EntityManager) {
    return manager ?? this.dataSource.manager;
  }

  /** Serializes writers of one flow (draft numbering, publish, rollback) for the transaction. */
  async lockFlow(manager: EntityManager, tenantId: string, flow: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`chatbot.flow:${tenantId}:${flow}`]);
  }

  async get(tenantId: string, flow: string, version: number, manager?: EntityManager): Promise<FlowVersionRow | undefined> {
    const rows: FlowVersionRow[] = await this.q(manager).query(
      `SELECT ${COLUMNS} FROM chatbot.flow_version WHERE tenant_id = $1 AND flow = $2 AND version = $3`,
      [tenantId, flow, version],
    );
    return rows[0];
  }

  async inState(
    tenantId: string,
    flow: string,
    state: 'draft' | 'published',
    manager?: EntityManager,
  ): Promise<FlowVersionRow | undefined> {
    const rows: FlowVersionRow[] = await this.q(manager).query(
      `SELECT ${COLUMNS} FROM chatbot.flow_version WHERE tenant_id = $1 AND flow = $2 AND state = $3`,
      [tenantId, flow, state],
    );
    return rows[0];
  }

  /** The newest version of a flow (draft or not), as the base of a translation import. */
  async latest(tenantId: string, flow: string, manager?: EntityManager): Promise<FlowVersionRow | undefined> {
    const rows: FlowVersionRow[] = await this.q(manager).query(
      `SELECT ${COLUMNS} FROM chatbot.flow_version WHERE tenant_id = $1 AND flow = $2 ORDER BY version DESC LIMIT 1`,
      [tenantId, flow],
    );
    return rows[0];
  }

  /** Every version of a flow, newest first, without the definitions. */
  async versions(tenantId: string, flow: string): Promise<Omit<FlowVersionRow, 'definition' | 'source'>[]> {
    return this.dataSource.query(
      `SELECT tenant_id AS "tenantId", flow, version, state, source_sha256 AS "sourceSha256", created_at AS "createdAt",
              created_by AS "createdBy", published_at AS "publishedAt", published_by AS "publishedBy", rolled_back_at AS "rolledBackAt"
       FROM chatbot.flow_version WHERE tenant_id = $1 AND flow = $2 ORDER BY version DESC`,
      [tenantId, flow],
    );
  }

  /** One line per flow of the tenant: its published and draft version numbers. */
  async flows(
    tenantId: string,
  ): Promise<{ flow: string; published: number | null; draft: number | null; latest: number; publishedAt: Date | null }[]> {
    return this.dataSource.query(
      `SELECT flow,
              max(version) FILTER (WHERE state = 'published') AS published,
              max(version) FILTER (WHERE state = 'draft') AS draft,
              max(version) AS latest,
              max(published_at) FILTER (WHERE state = 'published') AS "publishedAt"
       FROM chatbot.flow_version WHERE tenant_id = $1 GROUP BY flow ORDER BY flow`,
      [tenantId],
    );
  }

  /** The tenant's published flows and their versions, without the definitions. */
  async publishedVersions(tenantId: string, manager?: EntityManager): Promise<{ flow: string; version: number }[]> {
    return this.q(manager).query(
      `SELECT flow, version FROM chatbot.flow_version WHERE tenant_id = $1 AND state = 'published' ORDER BY flow`,
      [tenantId],
    );
  }

  /** Writes the flow's draft: replaces the open draft, or opens one as the next version. */
  async saveDraft(
    manager: EntityManager,
    row: Pick<FlowVersionRow, 'tenantId' | 'flow' | 'definition' | 'source' | 'sourceSha256' | 'createdBy'>,
  ): Promise<number> {
    const updated: { version: number }[] = await manager.query(
      // A SELECT around the UPDATE: the driver then answers plain rows (an UPDATE answers [rows, count]).
      `WITH updated AS (
         UPDATE chatbot.flow_version SET definition = $3, source = $4, source_sha256 = $5, created_by = $6, created_at = now()
         WHERE tenant_id = $1 AND flow = $2 AND state = 'draft' RETURNING version)
       SELECT version FROM updated`,
      [row.tenantId, row.flow, JSON.stringify(row.definition), row.source, row.sourceSha256, row.createdBy],
    );
    if (updated.length) return updated[0].version;
    const inserted: { version: number }[] = await manager.query(
      `INSERT INTO chatbot.flow_version (tenant_id, flow, version, state, definition, source, source_sha256, created_by)
       SELECT $1, $2, COALESCE(max(version), 0) + 1, 'draft', $3, $4, $5, $6
       FROM chatbot.flow_version WHERE tenant_id = $1 AND flow = $2
       RETURNING version`,
      [row.tenantId, row.flow, JSON.stringify(row.definition), row.source, row.sourceSha256, row.createdBy],
    );
    return inserted[0].version;
  }

  /** Makes `version` the published one; the one published before is retired. */
  async publish(manager: EntityManager, tenantId: string, flow: string, version: number, by: string): Promise<void> {
    await manager.query(
      `UPDATE chatbot.flow_version SET state = 'retired' WHERE tenant_id = $1 AND flow = $2 AND state = 'published' AND version <> $3`,
      [tenantId, flow, version],
    );
    await manager.query(
      `UPDATE chatbot.flow_version SET state = 'published', published_at = now(), published_by = $4, rolled_back_at = NULL
       WHERE tenant_id = $1 AND flow = $2 AND version = $3`,
      [tenantId, flow, version, by],
    );
  }

  /** The version published before the current one (and not itself rolled back), for a rollback. */
  async previousPublished(manager: EntityManager, tenantId: string, flow: string, current: number): Promise<FlowVersionRow | undefined> {
    const rows: FlowVersionRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM chatbot.flow_version
       WHERE tenant_id = $1 AND flow = $2 AND state = 'retired' AND published_at IS NOT NULL AND rolled_back_at IS NULL AND version <> $3
       ORDER BY published_at DESC LIMIT 1`,
      [tenantId, flow, current],
    );
    return rows[0];
  }

  async markRolledBack(manager: EntityManager, tenantId: string, flow: string, version: number): Promise<void> {
    await manager.query(`UPDATE chatbot.flow_version SET rolled_back_at = now() WHERE tenant_id = $1 AND flow = $2 AND version = $3`, [
      tenantId,
      flow,
      version,
    ]);
  }
}
