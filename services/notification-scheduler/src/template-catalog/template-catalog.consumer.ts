import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { Topics, type TemplateCatalogEntryV1 } from '@wa/contracts';
import type { KafkaEventContext } from '@wa/kafka';

@Controller()
export class TemplateCatalogConsumer {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * A local read model of the template catalog: which translations are approved, with which
   * parameters. The topic is compacted; a tombstone (null value) means the translation was
   * deleted, and its key (`tenant:name:language`) says which.
   */
  @EventPattern(Topics.templateCatalog.name)
  async applyCatalogEntry(@Payload() entry: TemplateCatalogEntryV1 | null, @Ctx() ctx: KafkaEventContext): Promise<void> {
    if (ctx.envelope.tombstone || entry === null) {
      const [tenantId, name, language] = (ctx.record.key ?? '').split(':');
      if (!tenantId || !name || !language || tenantId !== ctx.envelope.tenantId) return;
      await this.dataSource.query('DELETE FROM scheduler.template_catalog WHERE tenant_id = $1 AND name = $2 AND language = $3', [
        tenantId,
        name,
        language,
      ]);
      return;
    }
    // Versions only move forward: a replayed older record must not undo a newer status.
    await this.dataSource.query(
      `INSERT INTO scheduler.template_catalog (tenant_id, name, language, status, version, entry) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, name, language) DO UPDATE SET status = EXCLUDED.status, version = EXCLUDED.version, entry = EXCLUDED.entry
       WHERE template_catalog.version <= EXCLUDED.version`,
      [entry.tenantId, entry.name, entry.language, entry.status, entry.version, JSON.stringify(entry)],
    );
  }
}
