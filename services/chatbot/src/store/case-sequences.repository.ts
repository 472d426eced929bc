import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** `chatbot.case_sequence`: one counter per tenant, reference prefix and year. */
@Injectable()
export class CaseSequenceRepository {
  /**
   * The next number, in the caller's transaction: the row stays locked until it commits, and a
   * rolled-back turn gives its number back, so references have no gaps from failed turns.
   */
  async next(manager: EntityManager, tenantId: string, prefix: string, year: number): Promise<number> {
    const rows: { value: string }[] = await manager.query(
      `INSERT INTO chatbot.case_sequence AS s (tenant_id, prefix, year, last_value) VALUES ($1, $2, $3, 1)
       ON CONFLICT (tenant_id, prefix, year) DO UPDATE SET last_value = s.last_value + 1
       RETURNING last_value AS value`,
      [tenantId, prefix, year],
    );
    return Number(rows[0].value);
  }
}

/** `RD-2026-000123`: at least six digits, more when a year needs them. */
export function formatCaseReference(prefix: string, year: number, n: number): string {
  return `${prefix}-${year}-${String(n).padStart(6, '0')}`;
}
