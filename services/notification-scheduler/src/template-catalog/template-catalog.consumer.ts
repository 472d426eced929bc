import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { Topics, type TemplateCatalogEntryV1 } from '@wa/contracts';

@Controller()
export class TemplateCatalogConsumer {
  constructor(private readonly dataSource: DataSource) {}

  /** A local read model of the template catalog: which translations are approved, with which parameters. */
  @EventPattern(Topics.templateCatalog.name)
  async applyCatalogEntry(@Payload() entry: TemplateCatalogEntryV1): Promise<void> {
    // Versions only move forward: a replayed older record must not undo a newer status.
    await this.dataSource.query(
      `INSERT INTO scheduler.template_catalog (tenant_id, name, language, status, version, entry) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, name, language) DO UPDATE SET status = EXCLUDED.status, version = EXCLUDED.version, entry = EXCLUDED.entry
       WHERE template_catalog.version <= EXCLUDED.version`,
      [entry.tenantId, entry.name, entry.language, entry.status, entry.version, JSON.stringify(entry)],
    );
  }
}
