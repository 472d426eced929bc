import { readFileSync } from 'node:fs';
import { HttpStatus, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { parse } from 'yaml';
import { DomainError } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import { editedPolicy, parsePolicyInput, resolvePolicy, type EffectivePolicy, type SchedulerPolicyInput } from './policy.model';

export class PolicyFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`Invalid scheduling policies in ${file}: ${problems.join('; ')}`);
    this.name = 'PolicyFileError';
  }
}

/** Reads and validates the policies file; every problem is named, nothing half-loaded. */
export function loadPolicyFile(file: string, registry: TenantRegistry): Map<string, SchedulerPolicyInput> {
  let plain: unknown;
  try {
    plain = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new PolicyFileError(file, [(error as Error).message]);
  }
  const tenants = (plain as { tenants?: unknown } | null)?.tenants;
  if (typeof tenants !== 'object' || tenants === null || Array.isArray(tenants)) {
    throw new PolicyFileError(file, ['the file must have a "tenants" map of tenant id to policy']);
  }
  const out = new Map<string, SchedulerPolicyInput>();
  const problems: string[] = [];
  for (const [tenantId, policy] of Object.entries(tenants)) {
    if (!registry.tenant(tenantId)) {
      problems.push(`${tenantId}: not a tenant of the tenants file`);
      continue;
    }
    const { value, errors } = parsePolicyInput(policy);
    if (errors.length) problems.push(...errors.map((e) => `${tenantId}.${e}`));
    else out.set(tenantId, value!);
  }
  if (problems.length) throw new PolicyFileError(file, problems);
  return out;
}

export const CONFIG_POLICIES = Symbol('CONFIG_POLICIES');

const CACHE_MS = 5000;

/**
 * The effective policy of a tenant: built-in defaults, then the tenant file (zone, quiet hours,
 * languages), then the config file's policy or, when an admin edited it, the stored one. Cached a
 * few seconds per replica; an edit is seen by every replica within that time (and at once by the
 * one that took it).
 */
@Injectable()
export class PolicyService {
  private readonly cache = new Map<string, { until: number; policy: EffectivePolicy }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: TenantRegistry,
    private readonly config: Map<string, SchedulerPolicyInput>,
  ) {}

  /** Undefined for a tenant the tenants file does not know. */
  async effective(tenantId: string): Promise<EffectivePolicy | undefined> {
    return (await this.effectiveMany([tenantId])).get(tenantId);
  }

  async effectiveMany(tenantIds: Iterable<string>): Promise<Map<string, EffectivePolicy>> {
    const out = new Map<string, EffectivePolicy>();
    const missing: string[] = [];
    const now = Date.now();
    for (const id of new Set(tenantIds)) {
      const hit = this.cache.get(id);
      if (hit && hit.until > now) out.set(id, hit.policy);
      else if (this.registry.tenant(id)) missing.push(id);
    }
    if (missing.length) {
      const rows: { tenant_id: string; policy: unknown; version: number }[] = await this.dataSource.query(
        'SELECT tenant_id, policy, version FROM scheduler.tenant_policy WHERE tenant_id = ANY($1)',
        [missing],
      );
      const stored = new Map(rows.map((r) => [r.tenant_id, r]));
      for (const id of missing) {
        const tenant = this.registry.tenant(id)!;
        const row = stored.get(id);
        const parsed = row ? parsePolicyInput(row.policy).value : undefined;
        const policy =
          row && parsed
            ? resolvePolicy(tenant, parsed, 'admin', row.version)
            : resolvePolicy(tenant, this.config.get(id), this.config.has(id) ? 'config' : 'default');
        this.cache.set(id, { until: now + CACHE_MS, policy });
        out.set(id, policy);
      }
    }
    return out;
  }

  /**
   * Stores an edited policy: the document GET returned, changed or not (read-only fields unchanged
   * or left out). The query's expectedVersion wins over the document's `version`.
   */
  async put(tenantId: string, plain: unknown, by: string, queryVersion?: number): Promise<EffectivePolicy> {
    this.cache.delete(tenantId);
    const current = (await this.effective(tenantId))!;
    const edited = editedPolicy(plain, current);
    const { value, errors } = parsePolicyInput(edited.input);
    if (edited.errors.length || errors.length) {
      throw new DomainError('invalid_policy', 'The policy is not valid', HttpStatus.UNPROCESSABLE_ENTITY, [...edited.errors, ...errors]);
    }
    const expectedVersion = queryVersion ?? edited.expectedVersion;
    const rows: { version: number }[] = await this.dataSource.query(
      `INSERT INTO scheduler.tenant_policy (tenant_id, policy, version, updated_by) VALUES ($1, $2, 1, $3)
       ON CONFLICT (tenant_id) DO UPDATE SET policy = EXCLUDED.policy, version = tenant_policy.version + 1, updated_at = now(), updated_by = EXCLUDED.updated_by
       WHERE $4::int IS NULL OR tenant_policy.version = $4::int
       RETURNING version`,
      [tenantId, JSON.stringify(value), by, expectedVersion ?? null],
    );
    if (rows.length === 0) {
      throw new DomainError(
        'version_conflict',
        `The policy changed meanwhile (expected version ${expectedVersion}); reload and retry`,
        HttpStatus.CONFLICT,
      );
    }
    this.cache.delete(tenantId);
    return (await this.effective(tenantId))!;
  }

  async reset(tenantId: string): Promise<EffectivePolicy> {
    await this.dataSource.query('DELETE FROM scheduler.tenant_policy WHERE tenant_id = $1', [tenantId]);
    this.cache.delete(tenantId);
    return (await this.effective(tenantId))!;
  }
}
