import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError, SERVICE_ENV } from '@wa/service-kit';
import { TenantRegistry, type TenantConfig } from '@wa/tenancy';
import type { TemplatesEnv } from '../config/env';
import { Translation } from '../registry/entities';
import { RegistryService } from '../registry/registry.service';
import { readStarterCatalog, type StarterTemplate } from './starter-catalog';

export interface StarterReport {
  tenants: string[];
  added: number;
  present: number;
  /** Starters an agency deleted: never brought back. */
  removed: number;
  invalid: string[];
}

/**
 * Loads the platform's own starter templates (standard government notices, utility category) for
 * the tenants in scope, at start-up, idempotently: a translation that exists — whatever its state
 * or content — is left alone, so agencies can edit or delete starters freely. New ones are queued
 * for submission like any other template.
 */
@Injectable()
export class StarterLoader implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('StarterLoader');
  /** The start-up load, for tests and readiness checks to await. */
  done: Promise<StarterReport> = Promise.resolve({ tenants: [], added: 0, present: 0, removed: 0, invalid: [] });

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: RegistryService,
    private readonly tenants: TenantRegistry,
    @Inject(SERVICE_ENV) private readonly env: TemplatesEnv,
  ) {}

  onApplicationBootstrap(): void {
    if (this.env.TEMPLATES_STARTER === 'off') return;
    const scope = this.tenants.tenants.filter((t) => this.env.TEMPLATES_STARTER === 'all' || t.mode === 'sandbox');
    if (scope.length === 0) return;
    // Not awaited: start-up must not wait on it, and a failure must not stop the service.
    this.done = this.load(scope).catch((error: Error) => {
      this.logger.error(`starter catalog not loaded: ${error.message}`);
      return { tenants: [], added: 0, present: 0, removed: 0, invalid: [error.message] };
    });
  }

  /** A load still running finishes before the pools close (each translation is its own transaction). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.done;
  }

  async load(tenants: TenantConfig[], catalog: StarterTemplate[] = readStarterCatalog()): Promise<StarterReport> {
    const report: StarterReport = { tenants: tenants.map((t) => t.id), added: 0, present: 0, removed: 0, invalid: [] };
    for (const tenant of tenants) {
      for (const template of catalog) {
        const languages = Object.keys(template.translations).filter((l) => tenant.languages.includes(l));
        if (languages.length === 0) continue;
        const outcomes = await this.loadTemplate(tenant, template, languages);
        for (const [language, outcome] of outcomes) {
          if (outcome === 'added') report.added++;
          else if (outcome === 'present') report.present++;
          else if (outcome === 'removed') report.removed++;
          else report.invalid.push(`${tenant.id}/${template.name}/${language}: ${outcome.invalid}`);
        }
      }
    }
    if (report.invalid.length) this.logger.error(`starter templates refused: ${report.invalid.join('; ')}`);
    this.logger.log(
      `starter catalog for ${report.tenants.join(', ')}: ${report.added} added, ${report.present} already present, ${report.removed} deleted by the agency`,
    );
    return report;
  }

  /** One template's languages for one tenant, in one transaction (a start-up loads dozens). */
  private async loadTemplate(
    tenant: TenantConfig,
    template: StarterTemplate,
    languages: string[],
  ): Promise<Map<string, 'added' | 'present' | 'removed' | { invalid: string }>> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const outcomes = new Map<string, 'added' | 'present' | 'removed' | { invalid: string }>();
        // Replicas starting together load the same starters: one at a time per template.
        await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`templates.starter:${tenant.id}:${template.name}`]);
        const siblings = await manager.getRepository(Translation).find({ where: { tenantId: tenant.id, name: template.name } });
        // A starter the agency deleted stays deleted.
        const deleted = new Set(
          (
            (await manager.query(
              `SELECT DISTINCT language FROM templates.translation_history WHERE tenant_id = $1 AND name = $2 AND language = ANY($3) AND kind = 'deleted'`,
              [tenant.id, template.name, languages],
            )) as { language: string }[]
          ).map((r) => r.language),
        );
        for (const language of languages) {
          if (siblings.some((s) => s.language === language)) {
            outcomes.set(language, 'present');
            continue;
          }
          if (deleted.has(language)) {
            outcomes.set(language, 'removed');
            continue;
          }
          const components = template.translations[language].components;
          const { issues, parameters } = this.registry.validateSet(
            tenant,
            {
              name: template.name,
              category: template.category,
              parameterFormat: template.parameterFormat,
              translations: [{ language, components }],
            },
            siblings,
          );
          if (issues.length) {
            outcomes.set(language, { invalid: issues.map((i) => `${i.path}: ${i.message}`).join('; ') });
            continue;
          }
          const added = await this.registry.insertTranslation(manager, {
            tenant,
            name: template.name,
            language,
            category: template.category,
            parameterFormat: template.parameterFormat,
            components,
            parameters: parameters.get(language)!,
            submit: true,
            source: 'starter',
            actor: 'starter',
          });
          // Later languages are checked against this one too (same variables, same format).
          siblings.push(added);
          outcomes.set(language, 'added');
        }
        return outcomes;
      });
    } catch (error) {
      // Created through the API at the same moment: the next start-up adds what is still missing.
      if (error instanceof DomainError && error.code === 'template_exists') return new Map(languages.map((l) => [l, 'present' as const]));
      throw error;
    }
  }
}
