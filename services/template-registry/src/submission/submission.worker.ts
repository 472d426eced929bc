import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { counter } from '@wa/observability';
import { SERVICE_ENV } from '@wa/service-kit';
import { TenantRegistry, type TenantConfig } from '@wa/tenancy';
import type { TemplatesEnv } from '../config/env';
import { ManagementBudget } from '../meta/management-budget';
import { MetaApiError, MetaTemplatesClient, type MetaTemplate } from '../meta/meta-templates.client';
import { Translation } from '../registry/entities';
import { RegistryService } from '../registry/registry.service';
import { catalogEntry, statusFromMeta } from '../registry/status';

const outcomes = counter('templates_submissions_total', 'Submissions to Meta by operation and outcome', ['operation', 'outcome']);

/**
 * Sends queued translations to Meta's management API, one at a time per row (row locks with SKIP
 * LOCKED, so replicas share the queue), within the per-WABA budget. A create answers with the
 * template id and PENDING; the verdict arrives later as a webhook (status sync). Transient
 * failures are retried with exponential backoff; Meta's refusals are kept on the translation for
 * the author to read.
 */
@Injectable()
export class SubmissionWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SubmissionWorker');
  private timer?: NodeJS.Timeout;
  private running = false;
  private loop?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: RegistryService,
    private readonly meta: MetaTemplatesClient,
    private readonly budget: ManagementBudget,
    private readonly tenants: TenantRegistry,
    @Inject(SERVICE_ENV) private readonly env: TemplatesEnv,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    const tick = async () => {
      if (!this.running) return;
      try {
        await this.drain();
      } catch (error) {
        this.logger.error(`submission round failed: ${(error as Error).message}`);
      }
      if (this.running) this.timer = setTimeout(() => (this.loop = tick()), this.env.TEMPLATES_SUBMIT_INTERVAL_MS);
    };
    this.timer = setTimeout(() => (this.loop = tick()), 0);
  }

  /** Before the platform closes the pools: the submission in flight finishes (or rolls back) first. */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.loop;
  }

  /** Submits what is due, up to a round's worth; returns how many rows it handled. */
  async drain(max = 25): Promise<number> {
    let handled = 0;
    while (this.running && handled < max && (await this.submitOne())) handled++;
    return handled;
  }

  /** One due translation, in its own transaction holding its row lock during the call. */
  async submitOne(): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const row = await manager
        .getRepository(Translation)
        .createQueryBuilder('t')
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .where(`t.submission_state = 'queued' AND t.next_submit_at <= now()`)
        .orderBy('t.next_submit_at', 'ASC')
        .limit(1)
        .getOne();
      if (!row) return false;
      const tenant = this.tenants.tenant(row.tenantId);
      const operation = row.metaTemplateId ? 'edit' : 'create';
      if (!tenant) {
        row.submissionState = 'failed';
        row.lastSubmitError = `tenant ${row.tenantId} is no longer configured`;
        await manager.getRepository(Translation).save(row);
        return true;
      }
      const decision = await this.budget.acquire(row.wabaId, operation);
      if (!decision.ok) {
        // Not an attempt: the row waits for the window to free a slot.
        row.nextSubmitAt = decision.retryAt;
        row.lastSubmitError = `waiting for the management API budget of WABA ${row.wabaId} (${decision.limit} per hour)`;
        await manager.getRepository(Translation).save(row);
        outcomes.inc({ operation, outcome: 'deferred' });
        return true;
      }
      const before = catalogEntry(row);
      const fromStatus = row.status;
      try {
        if (operation === 'create') {
          const created = await this.meta.create(tenant, this.createBody(row));
          row.metaTemplateId = created.id;
          row.status = statusFromMeta(created.status);
          if (created.category && created.category.toUpperCase() !== row.category) {
            await this.registry.recordHistory(manager, row, {
              kind: 'category',
              from: row.category,
              to: created.category.toUpperCase(),
              actor: 'submitter',
              reason: 'Meta assigned another category at creation',
            });
            row.category = created.category.toUpperCase();
          }
        } else {
          await this.meta.edit(tenant, row.metaTemplateId!, this.editBody(row, fromStatus));
          row.status = 'PENDING'; // an edit goes back to review
        }
        await this.succeeded(manager, row, operation, fromStatus);
        outcomes.inc({ operation, outcome: 'accepted' });
      } catch (error) {
        if (!(error instanceof MetaApiError)) throw error;
        if (error.kind === 'duplicate' && operation === 'create') {
          // Already at Meta (a crash after Meta answered, or made elsewhere): adopt it.
          const adopted = await this.adopt(tenant, row);
          if (adopted) {
            row.metaTemplateId = adopted.id;
            row.status = statusFromMeta(adopted.status);
            await this.succeeded(manager, row, 'adopt', fromStatus);
            outcomes.inc({ operation, outcome: 'adopted' });
            await this.registry.publishIfChanged(manager, before, row);
            return true;
          }
        }
        await this.failed(manager, row, operation, error);
      }
      await this.registry.publishIfChanged(manager, before, row);
      return true;
    });
  }

  private createBody(row: Translation): Record<string, unknown> {
    return {
      name: row.name,
      language: row.language,
      category: row.category,
      parameter_format: row.parameterFormat,
      components: row.components,
    };
  }

  private editBody(row: Translation, fromStatus: string): Record<string, unknown> {
    // Meta refuses a category change on APPROVED templates; send it only when allowed.
    return fromStatus === 'APPROVED' ? { components: row.components } : { components: row.components, category: row.category };
  }

  private async succeeded(manager: EntityManager, row: Translation, operation: string, fromStatus: string): Promise<void> {
    this.registry.goLive(row);
    row.submissionState = 'submitted';
    row.submitAttempts += 1;
    row.nextSubmitAt = null;
    row.lastSubmitError = null;
    row.statusChangedAt = new Date();
    row.reason = null;
    row.reasonDetail = null;
    await manager.getRepository(Translation).save(row);
    await this.registry.recordHistory(manager, row, {
      kind: 'submitted',
      from: fromStatus,
      to: row.status,
      actor: 'submitter',
      detail: { operation, fromStatus, version: row.version, metaTemplateId: row.metaTemplateId },
    });
  }

  private async failed(manager: EntityManager, row: Translation, operation: string, error: MetaApiError): Promise<void> {
    row.submitAttempts += 1;
    row.lastSubmitError = error.describe();
    const exhausted = row.submitAttempts >= this.env.TEMPLATES_MAX_SUBMIT_ATTEMPTS;
    if (error.retriable && !exhausted) {
      const backoff = Math.min(this.env.TEMPLATES_RETRY_BASE_MS * 2 ** (row.submitAttempts - 1), 60 * 60 * 1000);
      // Meta's rate limits reset by the hour: no point knocking before a good while.
      const wait = error.kind === 'rate_limited' ? Math.max(backoff, 15 * 60 * 1000) : backoff;
      row.nextSubmitAt = new Date(Date.now() + wait);
      await manager.getRepository(Translation).save(row);
      outcomes.inc({ operation, outcome: 'retry' });
      this.logger.warn(`${row.tenantId}/${row.name}/${row.language}: ${operation} will be retried: ${error.message}`);
      return;
    }
    row.submissionState = 'failed';
    row.nextSubmitAt = null;
    await manager.getRepository(Translation).save(row);
    await this.registry.recordHistory(manager, row, {
      kind: 'submit_failed',
      from: row.status,
      to: row.status,
      actor: 'submitter',
      reason: error.describe(),
      detail: {
        operation,
        code: error.code ?? null,
        subcode: error.subcode ?? null,
        httpStatus: error.httpStatus,
        traceId: error.traceId ?? null,
        attempts: row.submitAttempts,
      },
    });
    outcomes.inc({ operation, outcome: 'failed' });
  }

  private async adopt(tenant: TenantConfig, row: Translation): Promise<MetaTemplate | undefined> {
    const decision = await this.budget.acquire(row.wabaId, 'list');
    if (!decision.ok) return undefined;
    try {
      const page = await this.meta.list(tenant, { name: row.name, limit: 100 });
      return page.data.find((t) => t.name === row.name && t.language.replace('-', '_') === row.language);
    } catch {
      return undefined;
    }
  }
}
