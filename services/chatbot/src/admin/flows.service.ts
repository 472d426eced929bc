import { createHash } from 'node:crypto';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { stringify } from 'yaml';
import { LANGUAGE_CODE } from '@wa/contracts';
import { DomainError } from '@wa/service-kit';
import type { FlowProblem } from '../flows';
import { exportStringsYaml, importStrings, loadFlow, parseStringsYaml } from '../flows';
import { FlowVersionRepository, type FlowVersionRow } from '../store/flow-versions.repository';

export const FLOW_SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export interface VersionView {
  flow: string;
  version: number;
  state: string;
  createdAt: string;
  createdBy: string;
  publishedAt?: string;
  publishedBy?: string;
  rolledBackAt?: string;
}

export function versionView(r: Omit<FlowVersionRow, 'definition' | 'source'>): VersionView {
  return {
    flow: r.flow,
    version: r.version,
    state: r.state,
    createdAt: new Date(r.createdAt).toISOString(),
    createdBy: r.createdBy,
    ...(r.publishedAt ? { publishedAt: new Date(r.publishedAt).toISOString(), publishedBy: r.publishedBy ?? undefined } : {}),
    ...(r.rolledBackAt ? { rolledBackAt: new Date(r.rolledBackAt).toISOString() } : {}),
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function invalid(problems: FlowProblem[], what = 'The flow has problems'): DomainError {
  return new DomainError('flow_invalid', `${what}: ${problems.length} problem(s)`, HttpStatus.UNPROCESSABLE_ENTITY, {
    problems: problems.map((p) => ({ message: p.message, code: p.code, node: p.node, language: p.language, path: p.path })),
  });
}

/**
 * Flow versions of a tenant: drafts from YAML, publish (only a flow that validates: a broken flow
 * never reaches citizens), rollback, and the translators' per-language strings files. Every call
 * names the tenant; a flow of another tenant does not exist here.
 */
@Injectable()
export class FlowsService {
  private readonly log = new Logger('Flows');

  constructor(
    private readonly dataSource: DataSource,
    private readonly versions: FlowVersionRepository,
  ) {}

  list(tenantId: string) {
    return this.versions.flows(tenantId);
  }

  async history(tenantId: string, flow: string): Promise<VersionView[]> {
    const rows = await this.versions.versions(tenantId, this.slug(flow));
    if (!rows.length) throw this.notFound(flow);
    return rows.map(versionView);
  }

  async get(tenantId: string, flow: string, version: number): Promise<FlowVersionRow> {
    const row = await this.versions.get(tenantId, this.slug(flow), version);
    if (!row) throw new DomainError('not_found', `Flow ${flow} has no version ${version}`, HttpStatus.NOT_FOUND);
    return row;
  }

  /** Creates or replaces the flow's draft from YAML; refuses (422) a flow with any problem. */
  async saveDraft(tenantId: string, flow: string, yaml: string, by: string): Promise<VersionView> {
    this.slug(flow);
    const loaded = loadFlow(yaml);
    if (!loaded.ok) throw invalid(loaded.problems);
    if (loaded.flow.flow !== flow) {
      throw invalid([{ code: 'schema', path: 'flow', message: `flow: the document names flow "${loaded.flow.flow}", the URL "${flow}"` }]);
    }
    return this.dataSource.transaction(async (manager) => {
      await this.versions.lockFlow(manager, tenantId, flow);
      const version = await this.versions.saveDraft(manager, {
        tenantId,
        flow,
        definition: loaded.flow,
        source: yaml,
        sourceSha256: sha256(yaml),
        createdBy: by,
      });
      return versionView((await this.versions.get(tenantId, flow, version, manager))!);
    });
  }

  /**
   * Publishes the draft (or a given version): checked again first, so a flow that no longer
   * validates (a stricter validator) is refused with its problems. Sessions already running finish
   * on their version; new ones start on this one.
   */
  async publish(tenantId: string, flow: string, by: string, version?: number): Promise<VersionView> {
    this.slug(flow);
    return this.dataSource.transaction(async (manager) => {
      await this.versions.lockFlow(manager, tenantId, flow);
      const row = version
        ? await this.versions.get(tenantId, flow, version, manager)
        : await this.versions.inState(tenantId, flow, 'draft', manager);
      if (!row) {
        if (!(await this.versions.latest(tenantId, flow, manager))) throw this.notFound(flow);
        throw version
          ? new DomainError('not_found', `Flow ${flow} has no version ${version}`, HttpStatus.NOT_FOUND)
          : new DomainError('no_draft', `Flow ${flow} has no draft to publish`, HttpStatus.CONFLICT);
      }
      const loaded = loadFlow(row.source);
      if (!loaded.ok) throw invalid(loaded.problems, `Version ${row.version} of ${flow} cannot be published`);
      await this.versions.publish(manager, tenantId, flow, row.version, by);
      this.log.log({ tenant: tenantId, flow, version: row.version, by }, 'flow published');
      return versionView((await this.versions.get(tenantId, flow, row.version, manager))!);
    });
  }

  /** Republishes the version published before the current one, in one step. */
  async rollback(tenantId: string, flow: string, by: string): Promise<VersionView> {
    this.slug(flow);
    return this.dataSource.transaction(async (manager) => {
      await this.versions.lockFlow(manager, tenantId, flow);
      const current = await this.versions.inState(tenantId, flow, 'published', manager);
      if (!current) {
        if (!(await this.versions.latest(tenantId, flow, manager))) throw this.notFound(flow);
        throw new DomainError('not_published', `Flow ${flow} is not published`, HttpStatus.CONFLICT);
      }
      const previous = await this.versions.previousPublished(manager, tenantId, flow, current.version);
      if (!previous) throw new DomainError('no_previous_version', `Flow ${flow} has no earlier published version`, HttpStatus.CONFLICT);
      await this.versions.publish(manager, tenantId, flow, previous.version, by);
      await this.versions.markRolledBack(manager, tenantId, flow, current.version);
      this.log.log({ tenant: tenantId, flow, from: current.version, to: previous.version, by }, 'flow rolled back');
      return versionView((await this.versions.get(tenantId, flow, previous.version, manager))!);
    });
  }

  /** One language's texts of the draft (else the published version) as a translator's YAML file. */
  async exportStrings(tenantId: string, flow: string, language: string): Promise<string> {
    const row = await this.base(tenantId, flow);
    this.language(language);
    return exportStringsYaml(row.definition, language);
  }

  /** A translator's file back: a new draft with the language's texts replaced (refused whole on unknown keys). */
  async importStrings(tenantId: string, flow: string, language: string, yaml: string, by: string) {
    this.language(language);
    const row = await this.base(tenantId, flow);
    let map: Record<string, unknown>;
    try {
      map = parseStringsYaml(yaml);
    } catch (error) {
      throw new DomainError('strings_invalid', `The strings file is not a YAML map: ${(error as Error).message}`);
    }
    const result = importStrings(row.definition, language, map);
    if (!result.ok) {
      throw new DomainError('strings_invalid', 'The strings file does not match the flow', HttpStatus.UNPROCESSABLE_ENTITY, {
        unknownKeys: result.unknown,
        invalidKeys: result.invalid,
        missingKeys: result.missing,
      });
    }
    const source = stringify(result.flow, { lineWidth: 0 });
    const draft = await this.saveDraft(tenantId, flow, source, by);
    return { ...draft, missingKeys: result.missing };
  }

  private async base(tenantId: string, flow: string): Promise<FlowVersionRow> {
    this.slug(flow);
    const row = (await this.versions.inState(tenantId, flow, 'draft')) ?? (await this.versions.inState(tenantId, flow, 'published'));
    if (!row) throw this.notFound(flow);
    return row;
  }

  private slug(flow: string): string {
    if (!FLOW_SLUG.test(flow))
      throw new DomainError('bad_request', 'flow names are lowercase letters, digits, - and _', HttpStatus.BAD_REQUEST);
    return flow;
  }

  private language(language: string): void {
    if (!LANGUAGE_CODE.test(language))
      throw new DomainError('bad_request', 'language must look like es, ar or pt_BR', HttpStatus.BAD_REQUEST);
  }

  private notFound(flow: string): DomainError {
    return new DomainError('not_found', `No flow ${flow}`, HttpStatus.NOT_FOUND);
  }
}
