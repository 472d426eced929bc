import { existsSync, readFileSync } from 'node:fs';
import { TenantConfigError, TenantRegistry } from '@wa/tenancy';
import { tenantsFileOf, type IngressEnv } from '../config/env';

/** The sandbox-only secrets of the sample tenants (see deploy/local/sandbox.env); they protect nothing real. */
const SANDBOX_SECRETS_FILE = 'deploy/local/sandbox.env';

function readEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  return Object.fromEntries(
    readFileSync(path, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#') && line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/**
 * Loads the tenants file and checks, at start-up, that every app's secrets and verify token
 * resolve to usable values (at least MIN_WEBHOOK_SECRET_LENGTH characters): a missing secret is a
 * configuration error to see now, not a 401 storm later, and an empty or short one would verify
 * webhooks anyone can sign. Every app in the file has a callback URL, so every app is checked,
 * with or without tenants. Without TENANTS_FILE (development, tests) it is sandbox mode: sample
 * tenants and their sandbox secrets, with the real environment taking precedence.
 */
export function loadIngressTenants(env: IngressEnv, source: NodeJS.ProcessEnv = process.env): TenantRegistry {
  const secretsEnv = env.TENANTS_FILE ? source : { ...readEnvFile(SANDBOX_SECRETS_FILE), ...source };
  const registry = TenantRegistry.load(tenantsFileOf(env), secretsEnv);
  const problems: string[] = [];
  for (const appId of registry.appIds) {
    try {
      registry.webhookCredentials(appId);
    } catch (error) {
      problems.push(...(error instanceof TenantConfigError ? error.problems : [(error as Error).message]).map((p) => `app ${appId}: ${p}`));
    }
  }
  if (problems.length) throw new TenantConfigError(problems);
  return registry;
}
