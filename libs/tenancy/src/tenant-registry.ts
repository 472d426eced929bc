import { readFileSync } from 'node:fs';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { parse } from 'yaml';
import { UNROUTED_TENANT } from '@wa/contracts';
import { DEFAULT_RETENTION } from './retention';
import type { AppConfig, PhoneNumberConfig, TenantConfig } from './tenant-config';
import { TenantsFile } from './tenant-config';

/**
 * Shortest app secret or webhook verify token accepted. Meta's app secrets are 32 hex characters;
 * anything much shorter is a placeholder or guessable, and a webhook signed with it proves nothing.
 */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

export class TenantConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid tenants file: ${problems.join('; ')}`);
    this.name = 'TenantConfigError';
  }
}

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    return [...Object.values(e.constraints ?? {}).map((m) => `${path}: ${m}`), ...flatten(e.children ?? [], path)];
  });
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The declarative tenant configuration every service loads (each takes what it needs). Adding a
 * tenant is a change to this file, not to code. Secrets are references resolved from the
 * environment or mounted files on first use.
 */
export class TenantRegistry {
  private readonly byId = new Map<string, TenantConfig>();
  private readonly byPhone = new Map<string, { tenant: TenantConfig; phone: PhoneNumberConfig }>();
  private readonly byWaba = new Map<string, TenantConfig>();
  private readonly apps = new Map<string, AppConfig>();

  constructor(
    file: TenantsFile,
    private readonly env: Record<string, string | undefined> = process.env,
  ) {
    for (const app of file.apps) this.apps.set(app.id, app);
    for (const tenant of file.tenants) {
      this.byId.set(tenant.id, tenant);
      this.byWaba.set(tenant.wabaId, tenant);
      for (const phone of tenant.phoneNumbers) this.byPhone.set(phone.id, { tenant, phone });
    }
  }

  static parse(text: string, env: Record<string, string | undefined> = process.env): TenantRegistry {
    let plain: unknown;
    try {
      plain = parse(text);
    } catch (error) {
      throw new TenantConfigError([`not valid YAML: ${(error as Error).message}`]);
    }
    const file = plainToInstance(TenantsFile, plain, { exposeDefaultValues: true });
    const problems = flatten(validateSync(file, { forbidUnknownValues: true }));
    if (problems.length === 0) problems.push(...TenantRegistry.crossCheck(file));
    if (problems.length) throw new TenantConfigError(problems);
    return new TenantRegistry(file, env);
  }

  static load(path: string, env: Record<string, string | undefined> = process.env): TenantRegistry {
    return TenantRegistry.parse(readFileSync(path, 'utf8'), env);
  }

  private static crossCheck(file: TenantsFile): string[] {
    const problems: string[] = [];
    const seen = new Map<string, string>();
    const appIds = new Set(file.apps.map((a) => a.id));
    for (const t of file.tenants) {
      if (seen.has(`tenant:${t.id}`)) problems.push(`tenant ${t.id} is declared twice`);
      if (t.id === UNROUTED_TENANT) problems.push(`tenant id ${t.id} is reserved (it marks records that belong to no tenant)`);
      seen.set(`tenant:${t.id}`, t.id);
      if (!appIds.has(t.appId)) problems.push(`tenant ${t.id}: appId ${t.appId} is not in apps`);
      if (!validTimeZone(t.timeZone)) problems.push(`tenant ${t.id}: unknown time zone ${t.timeZone}`);
      if (!t.languages.includes(t.defaultLanguage))
        problems.push(`tenant ${t.id}: defaultLanguage ${t.defaultLanguage} is not in languages`);
      // A misspelt retention field would silently keep data for the default instead.
      for (const field of Object.keys(t.retention ?? {}))
        if (!(field in DEFAULT_RETENTION))
          problems.push(`tenant ${t.id}: retention.${field} is not one of ${Object.keys(DEFAULT_RETENTION).join(', ')}`);
      for (const p of t.phoneNumbers) {
        const owner = seen.get(`phone:${p.id}`);
        if (owner) problems.push(`phone number id ${p.id} belongs to both ${owner} and ${t.id}`);
        seen.set(`phone:${p.id}`, t.id);
      }
    }
    return problems;
  }

  get tenants(): TenantConfig[] {
    return [...this.byId.values()];
  }

  tenant(id: string): TenantConfig | undefined {
    return this.byId.get(id);
  }

  tenantByPhoneNumberId(phoneNumberId: string): { tenant: TenantConfig; phone: PhoneNumberConfig } | undefined {
    return this.byPhone.get(phoneNumberId);
  }

  tenantByWabaId(wabaId: string): TenantConfig | undefined {
    return this.byWaba.get(wabaId);
  }

  get appIds(): string[] {
    return [...this.apps.keys()];
  }

  app(id: string): AppConfig | undefined {
    return this.apps.get(id);
  }

  tenantsOfApp(appId: string): TenantConfig[] {
    return this.tenants.filter((t) => t.appId === appId);
  }

  /**
   * Resolves `env:NAME` / `file:/path`; throws naming the reference (never the value) if it is
   * absent or blank: an empty secret would still "work" (an HMAC keyed with nothing is a hash
   * anyone can compute).
   */
  secret(ref: string): string {
    let value: string | undefined;
    if (ref.startsWith('env:')) {
      value = this.env[ref.slice(4)];
      if (!value) throw new TenantConfigError([`secret ${ref} is not set`]);
    } else {
      try {
        value = readFileSync(ref.slice(5), 'utf8').trim();
      } catch {
        throw new TenantConfigError([`secret ${ref} cannot be read`]);
      }
    }
    if (value.trim() === '') throw new TenantConfigError([`secret ${ref} is empty`]);
    return value;
  }

  /**
   * What a webhook endpoint needs of an app, checked for that use: its secrets (current first) and
   * verify token, each at least MIN_WEBHOOK_SECRET_LENGTH characters. Throws one TenantConfigError
   * naming every bad reference (never a value).
   */
  webhookCredentials(appId: string): { secrets: string[]; verifyToken: string } {
    const app = this.apps.get(appId);
    if (!app) throw new TenantConfigError([`app ${appId} is not in apps`]);
    const problems: string[] = [];
    const checked = (ref: string, what: string): string => {
      try {
        const value = this.secret(ref);
        if (value.length < MIN_WEBHOOK_SECRET_LENGTH) {
          problems.push(`${what} ${ref} is ${value.length} characters long; at least ${MIN_WEBHOOK_SECRET_LENGTH} are required`);
        }
        return value;
      } catch (error) {
        problems.push(...(error instanceof TenantConfigError ? error.problems : [(error as Error).message]));
        return '';
      }
    };
    const secrets = [checked(app.appSecretRef, 'app secret')];
    const previous = app.previousAppSecretRef;
    if (previous && (!previous.startsWith('env:') || this.env[previous.slice(4)])) secrets.push(checked(previous, 'previous app secret'));
    const verifyToken = checked(app.verifyTokenRef, 'verify token');
    if (problems.length) throw new TenantConfigError(problems);
    return { secrets, verifyToken };
  }

  /** Current and (during rotation) previous app secret; both verify signatures. */
  appSecrets(appId: string): string[] {
    const app = this.apps.get(appId);
    if (!app) return [];
    const secrets = [this.secret(app.appSecretRef)];
    const previous = app.previousAppSecretRef;
    if (previous && (!previous.startsWith('env:') || this.env[previous.slice(4)])) secrets.push(this.secret(previous));
    return secrets;
  }
}
