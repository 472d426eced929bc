import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { DataSource, In, type EntityManager } from 'typeorm';
import type { Principal } from '@wa/auth';
import { Topics, type AccountEventV1, type TemplateCatalogEntryV1 } from '@wa/contracts';
import { Outbox } from '@wa/kafka';
import { counter } from '@wa/observability';
import { DomainError } from '@wa/service-kit';
import { TenantRegistry, type TenantConfig } from '@wa/tenancy';
import {
  checkTranslationsConsistent,
  normalizeLanguageCode,
  previewTemplate,
  renderTemplate,
  validateTemplateDefinition,
  type RenderInput,
  type TemplateComponent,
  type TemplateIssue,
  type TemplateParameter,
} from '@wa/templates';
import { ManagementBudget } from '../meta/management-budget';
import { MetaApiError, MetaTemplatesClient } from '../meta/meta-templates.client';
import type { CreateTemplateRequest, PutTranslationRequest } from './dto';
import { Translation, TranslationHistory, TranslationVersion, type HistoryKind, type TranslationSource } from './entities';
import { canonicalJson, catalogEntry, EDITABLE_AT_META, META_EVENT_STATUS, sameEntry } from './status';

export interface LanguageIssue extends TemplateIssue {
  language?: string;
}

export interface NewTranslation {
  language: string;
  components: TemplateComponent[];
}

export interface HistoryInput {
  kind: HistoryKind;
  from?: string | null;
  to?: string | null;
  reason?: string | null;
  detail?: Record<string, unknown> | null;
  actor: string;
  eventId?: string | null;
  occurredAt?: Date;
}

/** Status changes Meta reports (REJECTED and PAUSED are alerted on: docs/operations.md). */
const statusChanges = counter('templates_status_changes_total', 'Template statuses set by Meta events, by tenant and new status', [
  'tenant',
  'status',
]);

const actorOf = (principal: Principal) => `user:${principal.sub}`;

/** An APPROVED template may be edited once per 24 h and ten times per 30 days (Meta, reference §8). */
const EDIT_LIMITS = [
  { windowMs: 24 * 60 * 60 * 1000, max: 1, label: 'once per 24 hours' },
  { windowMs: 30 * 24 * 60 * 60 * 1000, max: 10, label: '10 times per 30 days' },
];

/**
 * The template registry's domain: every read and write is scoped by tenant (a template of another
 * tenant is simply not found), every change is recorded in the history, and every change of what a
 * sender would see is published to the compacted catalog topic through the outbox, in the same
 * transaction as the change.
 */
@Injectable()
export class RegistryService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly tenants: TenantRegistry,
    private readonly meta: MetaTemplatesClient,
    private readonly budget: ManagementBudget,
  ) {}

  tenantOf(principal: Principal): TenantConfig {
    const tenant = this.tenants.tenant(principal.tenant);
    if (!tenant) {
      throw new DomainError('tenant_not_configured', `tenant ${principal.tenant} is not configured on this platform`, HttpStatus.FORBIDDEN);
    }
    return tenant;
  }

  /* ------------------------------------------------------------------ reads */

  async list(principal: Principal, filters: { status?: string; language?: string; namePrefix?: string }): Promise<Translation[]> {
    const qb = this.dataSource
      .getRepository(Translation)
      .createQueryBuilder('t')
      .where('t.tenant_id = :tenant', { tenant: principal.tenant })
      .orderBy('t.name')
      .addOrderBy('t.language');
    if (filters.status) qb.andWhere('t.status = :status', { status: filters.status });
    if (filters.language) qb.andWhere('t.language = :language', { language: filters.language });
    if (filters.namePrefix) qb.andWhere('t.name LIKE :prefix', { prefix: `${filters.namePrefix.replace(/_/g, '\\_')}%` });
    return qb.getMany();
  }

  async get(principal: Principal, name: string): Promise<Translation[]> {
    const rows = await this.dataSource
      .getRepository(Translation)
      .find({ where: { tenantId: principal.tenant, name }, order: { language: 'ASC' } });
    if (rows.length === 0) throw notFound(name);
    return rows;
  }

  async getTranslation(principal: Principal, name: string, language: string): Promise<Translation> {
    const row = await this.dataSource.getRepository(Translation).findOne({ where: { tenantId: principal.tenant, name, language } });
    if (!row) throw notFound(name, language);
    return row;
  }

  async history(principal: Principal, name: string, language: string): Promise<TranslationHistory[]> {
    const rows = await this.dataSource
      .getRepository(TranslationHistory)
      .find({ where: { tenantId: principal.tenant, name, language }, order: { id: 'ASC' } });
    if (rows.length === 0) throw notFound(name, language);
    return rows;
  }

  async preview(principal: Principal, name: string, language: string, values: RenderInput) {
    const row = await this.getTranslation(principal, name, language);
    const render = renderTemplate(
      { name: row.name, language: row.language, status: row.status, parameterFormat: row.parameterFormat, components: row.components },
      values,
      { allowUnapproved: true },
    );
    return {
      name: row.name,
      language: row.language,
      status: row.status,
      version: row.version,
      sendable: row.status === 'APPROVED',
      preview: previewTemplate({ components: row.components, parameterFormat: row.parameterFormat }, values),
      render: render.ok ? { ok: true, components: render.components, template: render.template } : { ok: false, errors: render.errors },
    };
  }

  /* ------------------------------------------------------------------ validation */

  /** All of Meta's rules for a set of translations of one template, issues tagged by language. */
  validateSet(
    tenant: TenantConfig,
    input: { name: string; category: string; parameterFormat?: 'named' | 'positional'; translations: NewTranslation[] },
    siblings: Translation[] = [],
  ): { issues: LanguageIssue[]; parameters: Map<string, TemplateParameter[]> } {
    const issues: LanguageIssue[] = [];
    const parameters = new Map<string, TemplateParameter[]>();
    const seen = new Set<string>();
    for (const t of input.translations) {
      if (seen.has(t.language)) {
        issues.push({ language: t.language, path: 'language', code: 'translations.duplicate', message: `${t.language} is listed twice` });
        continue;
      }
      seen.add(t.language);
      if (!tenant.languages.includes(t.language)) {
        issues.push({
          language: t.language,
          path: 'language',
          code: 'language.not_configured',
          message: `${t.language} is not one of ${tenant.id}'s languages (${tenant.languages.join(', ')})`,
        });
      }
      const result = validateTemplateDefinition({
        name: input.name,
        language: t.language,
        category: input.category,
        parameterFormat: input.parameterFormat,
        components: t.components,
      });
      if (result.ok) parameters.set(t.language, result.parameters);
      else issues.push(...result.issues.map((i) => ({ ...i, language: t.language })));
    }
    if (issues.length === 0) {
      const all = [
        ...siblings
          .filter((s) => !parameters.has(s.language))
          // Meta re-categorises translations one by one, so only the parameters must agree with siblings.
          .map((s) => ({ language: s.language, parameterFormat: s.parameterFormat, parameters: s.parameters })),
        ...input.translations.map((t) => ({
          language: t.language,
          parameterFormat: input.parameterFormat ?? 'positional',
          category: input.category,
          parameters: parameters.get(t.language) ?? [],
        })),
      ];
      issues.push(...checkTranslationsConsistent(all).map((i) => ({ ...i, language: i.path.replace(/^translations\./, '') })));
    }
    return { issues, parameters };
  }

  /* ------------------------------------------------------------------ writes */

  async create(principal: Principal, request: CreateTemplateRequest): Promise<Translation[]> {
    const tenant = this.tenantOf(principal);
    const translations = request.translations.map((t) => ({
      language: t.language,
      components: t.components as unknown as TemplateComponent[],
    }));
    const { issues, parameters } = this.validateSet(tenant, { ...request, translations });
    if (issues.length) throw invalid(issues);
    return this.dataSource.transaction(async (manager) => {
      const existing = await manager.getRepository(Translation).find({ where: { tenantId: tenant.id, name: request.name } });
      if (existing.length) {
        throw new DomainError(
          'template_exists',
          `template ${request.name} already exists (${existing.map((e) => e.language).join(', ')}); add or change a translation with PUT /v1/templates/${request.name}/languages/{language}`,
          HttpStatus.CONFLICT,
        );
      }
      const rows: Translation[] = [];
      for (const t of translations) {
        rows.push(
          await this.insertTranslation(manager, {
            tenant,
            name: request.name,
            language: t.language,
            category: request.category,
            parameterFormat: request.parameterFormat ?? 'positional',
            components: t.components,
            parameters: parameters.get(t.language)!,
            submit: request.submit ?? true,
            source: 'api',
            actor: actorOf(principal),
          }),
        );
      }
      return rows;
    });
  }

  /** Adds a translation to an existing template, or saves a new version of one. */
  async putTranslation(principal: Principal, name: string, language: string, request: PutTranslationRequest): Promise<Translation> {
    const tenant = this.tenantOf(principal);
    return this.dataSource.transaction(async (manager) => {
      const siblings = await manager
        .getRepository(Translation)
        .createQueryBuilder('t')
        .setLock('pessimistic_write')
        .where('t.tenant_id = :tenant AND t.name = :name', { tenant: tenant.id, name })
        .getMany();
      if (siblings.length === 0) throw notFound(name);
      if (request.language !== undefined && request.language !== language) {
        throw new DomainError(
          'language_mismatch',
          `the body is the ${request.language} translation, the path names ${language}`,
          HttpStatus.UNPROCESSABLE_ENTITY,
        );
      }
      const current = siblings.find((s) => s.language === language);
      const others = siblings.filter((s) => s.language !== language);
      const reference = current ?? others[0];
      const category = request.category ?? reference.category;
      const parameterFormat = request.parameterFormat ?? reference.parameterFormat;
      const components = request.components as unknown as TemplateComponent[];
      const { issues, parameters } = this.validateSet(
        tenant,
        { name, category, parameterFormat, translations: [{ language, components }] },
        others,
      );
      if (issues.length) throw invalid(issues);
      const params = parameters.get(language)!;
      const actor = actorOf(principal);
      if (!current) {
        return this.insertTranslation(manager, {
          tenant,
          name,
          language,
          category,
          parameterFormat,
          components,
          parameters: params,
          submit: request.submit ?? true,
          source: 'api',
          actor,
        });
      }
      if (request.version !== undefined && request.version !== current.version) {
        throw new DomainError(
          'version_conflict',
          `${name} (${language}) is at version ${current.version}, not ${request.version}; reload and retry`,
          HttpStatus.CONFLICT,
        );
      }
      const atMeta = current.metaTemplateId !== null;
      if (atMeta && !EDITABLE_AT_META.has(current.status)) {
        throw new DomainError(
          'not_editable',
          `${name} (${language}) is ${current.status} at Meta; Meta accepts edits of APPROVED, REJECTED or PAUSED templates only`,
          HttpStatus.CONFLICT,
        );
      }
      if (atMeta && current.status === 'APPROVED' && category !== current.category) {
        throw new DomainError(
          'category_locked',
          `the category of an APPROVED template cannot change (${current.category})`,
          HttpStatus.UNPROCESSABLE_ENTITY,
        );
      }
      if (atMeta && current.status === 'APPROVED') await this.checkEditLimits(manager, current);
      if (
        canonicalJson(current.components) === canonicalJson(components) &&
        current.category === category &&
        current.parameterFormat === parameterFormat
      ) {
        return current; // nothing changed: no new version
      }
      const before = catalogEntry(current);
      current.version += 1;
      current.components = components;
      current.parameters = params;
      current.category = category;
      current.parameterFormat = parameterFormat;
      current.updatedBy = actor;
      if (request.submit ?? true) this.queue(current);
      else if (current.submissionState !== 'submitted') current.submissionState = 'none';
      await manager.getRepository(Translation).save(current);
      await this.saveVersion(manager, current, actor);
      await this.recordHistory(manager, current, { kind: 'edited', from: String(current.version - 1), to: String(current.version), actor });
      await this.publishIfChanged(manager, before, current);
      return current;
    });
  }

  /** Queues the latest version for submission (a draft, a failed submission, or an edit kept as draft). */
  async requestSubmit(principal: Principal, name: string, language: string): Promise<Translation> {
    return this.dataSource.transaction(async (manager) => {
      const row = await lockTranslation(manager, principal.tenant, name, language);
      if (!row) throw notFound(name, language);
      if (row.submissionState === 'queued') return row;
      if (row.submissionState === 'submitted' && row.liveVersion === row.version) {
        throw new DomainError(
          'nothing_to_submit',
          `${name} (${language}) version ${row.version} is already at Meta (${row.status})`,
          HttpStatus.CONFLICT,
        );
      }
      if (row.metaTemplateId && !EDITABLE_AT_META.has(row.status)) {
        throw new DomainError(
          'not_editable',
          `${name} (${language}) is ${row.status} at Meta; it cannot be re-submitted now`,
          HttpStatus.CONFLICT,
        );
      }
      this.queue(row);
      row.submitAttempts = 0;
      row.lastSubmitError = null;
      row.updatedBy = actorOf(principal);
      await manager.getRepository(Translation).save(row);
      return row;
    });
  }

  /**
   * Deletes a template (every language) or one translation, at Meta first when it is there, then
   * here; the catalog receives a tombstone per language. Meta blocks the name of a deleted
   * APPROVED template for 30 days.
   */
  async remove(principal: Principal, name: string, language?: string): Promise<{ deleted: string[] }> {
    const tenant = this.tenantOf(principal);
    return this.dataSource.transaction(async (manager) => {
      const qb = manager
        .getRepository(Translation)
        .createQueryBuilder('t')
        .setLock('pessimistic_write')
        .where('t.tenant_id = :tenant AND t.name = :name', { tenant: tenant.id, name });
      if (language) qb.andWhere('t.language = :language', { language });
      const rows = await qb.getMany();
      if (rows.length === 0) throw notFound(name, language);
      const atMeta = rows.filter((r) => r.metaTemplateId);
      if (atMeta.length) {
        const decision = await this.budget.acquire(tenant.wabaId, 'delete');
        if (!decision.ok) {
          throw new DomainError(
            'rate_limited',
            `the management API budget of WABA ${tenant.wabaId} is spent; try again later`,
            HttpStatus.TOO_MANY_REQUESTS,
            {
              retryAt: decision.retryAt.toISOString(),
            },
          );
        }
        try {
          if (language) await this.meta.deleteTranslation(tenant, name, atMeta[0].metaTemplateId!);
          else await this.meta.deleteByName(tenant, name);
        } catch (error) {
          if (!(error instanceof MetaApiError)) throw error;
          // Meta no longer having it is what we wanted; anything else stops the delete here.
          if (!(error.kind === 'rejected' && error.httpStatus === 404)) {
            throw new DomainError(
              'meta_error',
              `Meta refused the delete: ${error.describe()}`,
              error.retriable ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.BAD_GATEWAY,
            );
          }
        }
      }
      const actor = actorOf(principal);
      for (const row of rows) {
        await this.recordHistory(manager, row, {
          kind: 'deleted',
          from: row.status,
          actor,
          detail: { metaTemplateId: row.metaTemplateId },
        });
        await this.outbox.addTombstone(manager, Topics.templateCatalog, Topics.templateCatalog.key(catalogEntry(row)), row.tenantId);
      }
      await manager.getRepository(Translation).delete({ id: In(rows.map((r) => r.id)) });
      return { deleted: rows.map((r) => r.language) };
    });
  }

  /* ------------------------------------------------------------------ Meta's events */

  /**
   * Applies one template event from `wa.account.event.v1` (status, quality, category, components)
   * inside the consumer's inbox transaction. Events about templates the registry does not know
   * are kept in `template_event` only.
   */
  async applyMetaEvent(
    manager: EntityManager,
    event: AccountEventV1,
    eventId: string,
  ): Promise<'applied' | 'unknown-template' | 'stale' | 'recorded'> {
    const repo = manager.getRepository(Translation);
    const language = event.templateLanguage ? normalizeLanguageCode(event.templateLanguage) : undefined;
    let row: Translation | null = null;
    if (event.templateId) {
      row = await repo
        .createQueryBuilder('t')
        .setLock('pessimistic_write')
        .where('t.tenant_id = :tenant AND t.meta_template_id = :id', { tenant: event.tenantId, id: event.templateId })
        .getOne();
    }
    if (!row && event.templateName && language) row = await lockTranslation(manager, event.tenantId, event.templateName, language);
    if (!row) return 'unknown-template';
    const details = event.details ?? {};
    const occurredAt = new Date(event.occurredAt);
    const before = catalogEntry(row);
    const base = { actor: 'meta', eventId, occurredAt, detail: details };
    let outcome: 'applied' | 'stale' | 'recorded' = 'applied';

    if (event.kind === 'template_status') {
      const metaEvent = (event.event ?? '').toUpperCase();
      const next = META_EVENT_STATUS[metaEvent];
      const { reason, reasonDetail } = reasonsOf(metaEvent, event, details);
      if (row.metaEventAt && occurredAt.getTime() < row.metaEventAt.getTime()) {
        await this.recordHistory(manager, row, {
          ...base,
          kind: 'ignored_event',
          to: metaEvent,
          reason: 'older than the last status event applied',
        });
        return 'stale';
      }
      if (next === undefined || next === null) {
        // FLAGGED, LOCKED, or an event Meta added since: worth seeing, no change of status.
        await this.recordHistory(manager, row, { ...base, kind: 'status', from: row.status, to: metaEvent, reason });
        outcome = 'recorded';
      } else {
        await this.recordHistory(manager, row, {
          ...base,
          kind: 'status',
          from: row.status,
          to: next,
          reason: reasonDetail ? `${reason ?? ''}: ${reasonDetail}` : reason,
        });
        row.status = next;
        statusChanges.inc({ tenant: row.tenantId, status: next });
        row.statusChangedAt = new Date();
        row.metaEventAt = occurredAt;
        row.reason = next === 'APPROVED' ? null : (reason ?? null);
        row.reasonDetail = next === 'APPROVED' ? null : (reasonDetail ?? null);
        if (event.templateId && !row.metaTemplateId) row.metaTemplateId = event.templateId;
        if (row.liveComponents === null) this.goLive(row);
      }
      const category = typeof details.message_template_category === 'string' ? details.message_template_category.toUpperCase() : undefined;
      if (category && category !== row.category) {
        await this.recordHistory(manager, row, { ...base, kind: 'category', from: row.category, to: category });
        row.category = category;
      }
    } else if (event.kind === 'template_quality') {
      const score = (typeof details.new_quality_score === 'string' ? details.new_quality_score : event.event)?.toUpperCase();
      if (!score) return 'recorded';
      await this.recordHistory(manager, row, { ...base, kind: 'quality', from: row.qualityScore, to: score });
      row.qualityScore = score;
    } else if (event.kind === 'template_category') {
      // The payload's shape is not documented where we looked (reference §16.4): accept the likely names.
      const raw = details.new_category ?? details.category ?? details.correct_category ?? event.event;
      const category = typeof raw === 'string' ? raw.toUpperCase() : undefined;
      if (!category) {
        await this.recordHistory(manager, row, {
          ...base,
          kind: 'category',
          from: row.category,
          reason: 'category event without a category',
        });
        return 'recorded';
      }
      await this.recordHistory(manager, row, { ...base, kind: 'category', from: row.category, to: category, reason: event.reason ?? null });
      row.category = category;
    } else {
      await this.recordHistory(manager, row, {
        ...base,
        kind: 'components',
        reason: 'Meta reports the components changed; run an import to re-read them',
      });
      return 'recorded';
    }
    await repo.save(row);
    await this.publishIfChanged(manager, before, row);
    return outcome;
  }

  /* ------------------------------------------------------------------ shared with submitter, import, starter */

  async insertTranslation(
    manager: EntityManager,
    input: {
      tenant: TenantConfig;
      name: string;
      language: string;
      category: string;
      parameterFormat: 'named' | 'positional';
      components: TemplateComponent[];
      parameters: TemplateParameter[];
      submit: boolean;
      source: TranslationSource;
      actor: string;
      status?: string;
      metaTemplateId?: string | null;
      qualityScore?: string | null;
      reason?: string | null;
    },
  ): Promise<Translation> {
    const repo = manager.getRepository(Translation);
    const row = repo.create({
      id: randomUUID(),
      tenantId: input.tenant.id,
      wabaId: input.tenant.wabaId,
      name: input.name,
      language: input.language,
      category: input.category,
      parameterFormat: input.parameterFormat,
      version: 1,
      components: input.components,
      parameters: input.parameters,
      liveVersion: null,
      liveComponents: null,
      liveParameters: null,
      status: input.status ?? 'DRAFT',
      statusChangedAt: new Date(),
      metaEventAt: null,
      reason: input.reason ?? null,
      reasonDetail: null,
      qualityScore: input.qualityScore ?? null,
      metaTemplateId: input.metaTemplateId ?? null,
      submissionState: 'none',
      submitAttempts: 0,
      nextSubmitAt: null,
      lastSubmitError: null,
      source: input.source,
      createdBy: input.actor,
      updatedBy: input.actor,
    });
    if (input.metaTemplateId) {
      this.goLive(row);
      row.submissionState = 'submitted';
    } else if (input.submit) this.queue(row);
    try {
      await repo.insert(row);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        throw new DomainError('template_exists', `${input.name} (${input.language}) already exists`, HttpStatus.CONFLICT);
      }
      throw error;
    }
    await this.saveVersion(manager, row, input.actor);
    await this.recordHistory(manager, row, {
      kind: input.source === 'import' ? 'imported' : 'created',
      to: row.status,
      actor: input.actor,
      detail: { source: input.source, version: 1 },
    });
    await this.publishIfChanged(manager, null, row);
    return row;
  }

  queue(row: Translation): void {
    row.submissionState = 'queued';
    row.nextSubmitAt = new Date();
  }

  /** What Meta now has is the latest version. */
  goLive(row: Translation): void {
    row.liveVersion = row.version;
    row.liveComponents = row.components;
    row.liveParameters = row.parameters;
  }

  async saveVersion(manager: EntityManager, row: Translation, actor: string): Promise<void> {
    await manager.getRepository(TranslationVersion).insert({
      translationId: row.id,
      version: row.version,
      tenantId: row.tenantId,
      category: row.category,
      parameterFormat: row.parameterFormat,
      components: row.components,
      createdBy: actor,
    });
  }

  async recordHistory(manager: EntityManager, row: Translation, entry: HistoryInput): Promise<void> {
    await manager.getRepository(TranslationHistory).insert({
      translationId: row.id,
      tenantId: row.tenantId,
      name: row.name,
      language: row.language,
      kind: entry.kind,
      fromValue: entry.from ?? null,
      toValue: entry.to ?? null,
      reason: entry.reason ?? null,
      // TypeORM's deep-partial typing cannot express a jsonb object column; the value is plain JSON.
      detail: (entry.detail ?? null) as never,
      actor: entry.actor,
      eventId: entry.eventId ?? null,
      occurredAt: entry.occurredAt ?? new Date(),
    });
  }

  /** Publishes the translation's catalog record when it differs from `before` (outbox, same transaction). */
  async publishIfChanged(manager: EntityManager, before: TemplateCatalogEntryV1 | null, row: Translation): Promise<boolean> {
    row.updatedAt = new Date();
    const after = catalogEntry(row);
    if (sameEntry(before, after)) return false;
    await this.outbox.add(manager, Topics.templateCatalog, after);
    return true;
  }

  private async checkEditLimits(manager: EntityManager, row: Translation): Promise<void> {
    for (const limit of EDIT_LIMITS) {
      const [{ count }] = (await manager.query(
        `SELECT count(*)::int AS count FROM templates.translation_history
          WHERE translation_id = $1 AND kind = 'submitted' AND detail->>'operation' = 'edit' AND detail->>'fromStatus' = 'APPROVED'
            AND occurred_at > now() - make_interval(secs => $2)`,
        [row.id, limit.windowMs / 1000],
      )) as { count: number }[];
      if (count >= limit.max) {
        throw new DomainError(
          'edit_limit',
          `Meta allows editing an APPROVED template ${limit.label}; ${row.name} (${row.language}) has reached that`,
          HttpStatus.TOO_MANY_REQUESTS,
        );
      }
    }
  }
}

export function lockTranslation(manager: EntityManager, tenantId: string, name: string, language: string): Promise<Translation | null> {
  return manager
    .getRepository(Translation)
    .createQueryBuilder('t')
    .setLock('pessimistic_write')
    .where('t.tenant_id = :tenant AND t.name = :name AND t.language = :language', { tenant: tenantId, name, language })
    .getOne();
}

function notFound(name: string, language?: string): DomainError {
  return new DomainError('template_not_found', `no template ${name}${language ? ` in ${language}` : ''}`, HttpStatus.NOT_FOUND);
}

function invalid(issues: LanguageIssue[]): DomainError {
  return new DomainError('template_invalid', `the template breaks ${issues.length} of WhatsApp's rules`, HttpStatus.UNPROCESSABLE_ENTITY, {
    issues,
  });
}

/** The reason code and Meta's own words, from the event and its raw value. */
function reasonsOf(metaEvent: string, event: AccountEventV1, details: Record<string, unknown>): { reason?: string; reasonDetail?: string } {
  const obj = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
  const text = (v: unknown) => (typeof v === 'string' && v.length ? v : undefined);
  const rejection = obj(details.rejection_info);
  const other = obj(details.other_info);
  const disable = obj(details.disable_info);
  const code = text(details.reason) ?? event.reason;
  const pauseTitle = text(other.title);
  const reason = code && code !== 'NONE' ? code : (pauseTitle ?? (metaEvent === 'DISABLED' ? 'DISABLED' : code));
  const parts = [
    text(rejection.reason),
    text(rejection.recommendation),
    text(other.description),
    typeof disable.disable_date === 'number' || typeof disable.disable_date === 'string'
      ? `disable date ${String(disable.disable_date)}`
      : undefined,
  ].filter(Boolean);
  return { reason: reason ?? undefined, reasonDetail: parts.length ? parts.join(' — ') : undefined };
}
