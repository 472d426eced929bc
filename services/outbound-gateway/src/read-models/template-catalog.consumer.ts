import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { Topics, type TemplateCatalogEntryV1 } from '@wa/contracts';
import type { KafkaEventContext } from '@wa/kafka';

/**
 * The gateway's copy of the template catalog (a compacted topic keyed tenant:name:language): only
 * APPROVED translations are sent, and sends are rendered against the approved components.
 */
@Controller()
export class TemplateCatalogConsumer {
  constructor(private readonly dataSource: DataSource) {}

  @EventPattern(Topics.templateCatalog.name)
  async apply(@Payload() entry: TemplateCatalogEntryV1 | null, @Ctx() ctx: KafkaEventContext): Promise<void> {
    if (entry === null || ctx.envelope.tombstone) {
      // Tombstone: the translation was deleted. The key is tenant:name:language.
      const [tenantId, name, language] = (ctx.record.key ?? '').split(':');
      if (tenantId && name && language) {
        await this.dataSource.query(`DELETE FROM gateway.template_catalog WHERE tenant_id = $1 AND name = $2 AND language = $3`, [
          tenantId,
          name,
          language,
        ]);
      }
      return;
    }
    // Versions only move forward: a replayed older record must not undo a newer status.
    await this.dataSource.query(
      `INSERT INTO gateway.template_catalog (tenant_id, name, language, status, category, version, entry, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (tenant_id, name, language) DO UPDATE
       SET status = EXCLUDED.status, category = EXCLUDED.category, version = EXCLUDED.version, entry = EXCLUDED.entry, updated_at = EXCLUDED.updated_at
       WHERE template_catalog.version < EXCLUDED.version
          OR (template_catalog.version = EXCLUDED.version AND template_catalog.updated_at <= EXCLUDED.updated_at)`,
      [entry.tenantId, entry.name, entry.language, entry.status, entry.category, entry.version, JSON.stringify(entry), entry.updatedAt],
    );
  }
}
