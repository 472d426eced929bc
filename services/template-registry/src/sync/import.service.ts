import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Principal } from '@wa/auth';
import { LANGUAGE_CODE } from '@wa/contracts';
import { DomainError, SERVICE_ENV } from '@wa/service-kit';
import { extractParameters, normalizeLanguageCode, type TemplateComponent } from '@wa/templates';
import type { TemplatesEnv } from '../config/env';
import { ManagementBudget } from '../meta/management-budget';
import { MetaApiError, MetaTemplatesClient, type MetaTemplate } from '../meta/meta-templates.client';
import { Translation } from '../registry/entities';
import { lockTranslation, RegistryService } from '../registry/registry.service';
import { canonicalJson, catalogEntry, statusFromMeta } from '../registry/status';

export interface ImportResult {
  pages: number;
  seen: number;
  imported: number;
  updated: number;
  unchanged: number;
  skipped: string[];
}

/**
 * Reads every template of the tenant's WABA (list API, cursor paging, one budgeted call per page)
 * and brings the registry in line: unknown translations are added as they are at Meta, known ones
 * take Meta's status, category, quality and, unless an edit is waiting to be submitted, content.
 */
@Injectable()
export class ImportService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: RegistryService,
    private readonly meta: MetaTemplatesClient,
    private readonly budget: ManagementBudget,
    @Inject(SERVICE_ENV) private readonly env: TemplatesEnv,
  ) {}

  async importAll(principal: Principal, maxPages = 50): Promise<ImportResult> {
    const tenant = this.registry.tenantOf(principal);
    const result: ImportResult = { pages: 0, seen: 0, imported: 0, updated: 0, unchanged: 0, skipped: [] };
    let after: string | undefined;
    do {
      const decision = await this.budget.acquire(tenant.wabaId, 'list');
      if (!decision.ok) {
        throw new DomainError(
          'rate_limited',
          `the management API budget of WABA ${tenant.wabaId} is spent after ${result.pages} page(s); try again later`,
          HttpStatus.TOO_MANY_REQUESTS,
          { retryAt: decision.retryAt.toISOString(), partial: result },
        );
      }
      let page;
      try {
        page = await this.meta.list(tenant, { after, limit: this.env.TEMPLATES_IMPORT_PAGE_SIZE });
      } catch (error) {
        if (!(error instanceof MetaApiError)) throw error;
        throw new DomainError(
          'meta_error',
          `Meta refused the list: ${error.describe()}`,
          error.retriable ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.BAD_GATEWAY,
          {
            partial: result,
          },
        );
      }
      result.pages++;
      for (const template of page.data) {
        result.seen++;
        const outcome = await this.importOne(principal, template);
        if (typeof outcome === 'string') result[outcome]++;
        else result.skipped.push(outcome.skipped);
      }
      after = page.after;
    } while (after && result.pages < maxPages);
    return result;
  }

  private async importOne(
    principal: Principal,
    template: MetaTemplate,
  ): Promise<'imported' | 'updated' | 'unchanged' | { skipped: string }> {
    const tenant = this.registry.tenantOf(principal);
    const language = normalizeLanguageCode(String(template.language ?? ''));
    const label = `${template.name} (${template.language})`;
    if (!/^[a-z0-9_]{1,512}$/.test(String(template.name ?? ''))) return { skipped: `${label}: name is not a template name` };
    if (!LANGUAGE_CODE.test(language)) return { skipped: `${label}: language code not understood` };
    if (!Array.isArray(template.components)) return { skipped: `${label}: no components` };
    const parameterFormat = String(template.parameter_format ?? 'positional').toLowerCase() === 'named' ? 'named' : 'positional';
    const components = template.components as unknown as TemplateComponent[];
    const category = String(template.category ?? 'UTILITY').toUpperCase();
    const status = statusFromMeta(template.status, 'PENDING');
    const quality = template.quality_score?.score ?? null;
    const parameters = extractParameters({ name: template.name, language, category, parameterFormat, components });
    return this.dataSource.transaction(async (manager) => {
      const row = await lockTranslation(manager, tenant.id, template.name, language);
      if (!row) {
        await this.registry.insertTranslation(manager, {
          tenant,
          name: template.name,
          language,
          category,
          parameterFormat,
          components,
          parameters,
          submit: false,
          source: 'import',
          actor: `import:${principal.sub}`,
          status,
          metaTemplateId: String(template.id),
          qualityScore: quality,
          reason: template.rejected_reason && template.rejected_reason !== 'NONE' ? template.rejected_reason : null,
        });
        return 'imported';
      }
      const before = catalogEntry(row);
      const changes: string[] = [];
      const actor = `import:${principal.sub}`;
      if (row.metaTemplateId !== String(template.id)) {
        changes.push('id');
        row.metaTemplateId = String(template.id);
      }
      if (row.status !== status) {
        await this.registry.recordHistory(manager, row, {
          kind: 'status',
          from: row.status,
          to: status,
          actor,
          reason: 'read from Meta by an import',
        });
        row.status = status;
        row.statusChangedAt = new Date();
        changes.push('status');
      }
      if (row.category !== category) {
        await this.registry.recordHistory(manager, row, { kind: 'category', from: row.category, to: category, actor });
        row.category = category;
        changes.push('category');
      }
      if (quality && row.qualityScore !== quality) {
        await this.registry.recordHistory(manager, row, { kind: 'quality', from: row.qualityScore, to: quality, actor });
        row.qualityScore = quality;
        changes.push('quality');
      }
      if (row.submissionState !== 'queued' && canonicalJson(row.liveComponents) !== canonicalJson(components)) {
        // Meta's copy wins: it is what senders are checked against.
        row.version += 1;
        row.components = components;
        row.parameters = parameters;
        row.parameterFormat = parameterFormat;
        this.registry.goLive(row);
        await this.registry.saveVersion(manager, row, actor);
        await this.registry.recordHistory(manager, row, {
          kind: 'components',
          to: String(row.version),
          actor,
          reason: 'content read from Meta by an import',
        });
        changes.push('components');
      }
      if (row.submissionState === 'none' || row.submissionState === 'failed') row.submissionState = 'submitted';
      if (changes.length === 0) return 'unchanged';
      await manager.getRepository(Translation).save(row);
      await this.registry.publishIfChanged(manager, before, row);
      return 'updated';
    });
  }
}
