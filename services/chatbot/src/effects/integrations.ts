import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { SECRET_REF } from '@wa/tenancy';

/**
 * Named HTTP integrations per tenant (`call` nodes name them; the flow never holds a URL or a
 * secret). The file (CHATBOT_INTEGRATIONS_FILE; `config/integrations.sandbox.yaml` locally):
 *
 * ```yaml
 * tenants:
 *   roads-agency:
 *     licence_status:
 *       url: https://api.roads.example.gov/licences/{{licence}}   # {{field}}: an input, URL-encoded
 *       method: GET                  # GET: the other inputs become the query; POST/PUT: a JSON body
 *       timeout_ms: 3000             # default 5000, at most 30000
 *       headers:
 *         x-api-key: env:ROADS_LICENCE_API_KEY            # a secret reference, resolved on each call
 *         authorization: { prefix: "Bearer ", secret: file:/etc/wa/secrets/roads-api-token }
 *         accept-language: es                              # a plain value
 * ```
 */
export interface IntegrationConfig {
  name: string;
  url: string;
  method: 'GET' | 'POST' | 'PUT';
  timeoutMs: number;
  headers: Record<string, string | { secret: string; prefix?: string }>;
}

export class IntegrationsConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`integrations file is invalid: ${problems.join('; ')}`);
    this.name = 'IntegrationsConfigError';
  }
}

const NAME = /^[a-z][a-z0-9_]{0,63}$/;
const PLACEHOLDER = /\{\{\s*([\w.]+)\s*\}\}/g;
const MAX_ANSWER_BYTES = 256 * 1024;

/** Parses and checks the file; throws listing every problem (the service refuses to start). */
export function parseIntegrations(text: string): Map<string, Map<string, IntegrationConfig>> {
  const problems: string[] = [];
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new IntegrationsConfigError([`not valid YAML: ${(error as Error).message}`]);
  }
  const tenants = (doc as { tenants?: unknown } | null)?.tenants;
  const result = new Map<string, Map<string, IntegrationConfig>>();
  if (!tenants || typeof tenants !== 'object') throw new IntegrationsConfigError(['the file needs a `tenants:` map']);
  for (const [tenantId, entries] of Object.entries(tenants as Record<string, unknown>)) {
    const byName = new Map<string, IntegrationConfig>();
    result.set(tenantId, byName);
    for (const [name, raw] of Object.entries((entries ?? {}) as Record<string, unknown>)) {
      const at = `${tenantId}.${name}`;
      const c = (raw ?? {}) as Record<string, unknown>;
      if (!NAME.test(name)) problems.push(`${at}: names are lowercase letters, digits and _`);
      const url = typeof c.url === 'string' ? c.url : '';
      if (!/^https?:\/\/\S+$/.test(url)) problems.push(`${at}: url must be an http(s) URL`);
      const method = String(c.method ?? 'GET').toUpperCase();
      if (!['GET', 'POST', 'PUT'].includes(method)) problems.push(`${at}: method must be GET, POST or PUT`);
      const timeoutMs = c.timeout_ms === undefined ? 5000 : Number(c.timeout_ms);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 30000) problems.push(`${at}: timeout_ms must be 100..30000`);
      const headers: IntegrationConfig['headers'] = {};
      for (const [header, value] of Object.entries((c.headers ?? {}) as Record<string, unknown>)) {
        if (typeof value === 'string') headers[header] = value;
        else if (value && typeof value === 'object' && typeof (value as { secret?: unknown }).secret === 'string') {
          const v = value as { secret: string; prefix?: unknown };
          if (!SECRET_REF.test(v.secret)) problems.push(`${at}: header ${header}: secret must be env:NAME or file:/path`);
          headers[header] = { secret: v.secret, prefix: typeof v.prefix === 'string' ? v.prefix : undefined };
        } else problems.push(`${at}: header ${header} must be a string or { secret, prefix }`);
      }
      byName.set(name, { name, url, method: method as IntegrationConfig['method'], timeoutMs, headers });
    }
  }
  if (problems.length) throw new IntegrationsConfigError(problems);
  return result;
}

export type CallResult = { ok: true; data: Record<string, unknown> } | { ok: false; error: string };

/** Runs the tenants' named integrations. Never throws: every failure is an answer the flow routes (`on_error`). */
export class Integrations {
  constructor(
    private readonly byTenant: Map<string, Map<string, IntegrationConfig>>,
    private readonly env: Record<string, string | undefined> = process.env,
  ) {}

  static load(path: string | undefined): Integrations {
    return new Integrations(path ? parseIntegrations(readFileSync(path, 'utf8')) : new Map());
  }

  names(tenantId: string): string[] {
    return [...(this.byTenant.get(tenantId)?.keys() ?? [])];
  }

  async call(tenantId: string, name: string, input: Record<string, string>): Promise<CallResult> {
    const config = this.byTenant.get(tenantId)?.get(name);
    if (!config) return { ok: false, error: `no integration ${name} for ${tenantId}` };
    const used = new Set<string>();
    const url = new URL(
      config.url.replace(PLACEHOLDER, (_m, key: string) => {
        used.add(key);
        return encodeURIComponent(input[key] ?? '');
      }),
    );
    const rest = Object.fromEntries(Object.entries(input).filter(([k]) => !used.has(k)));
    let headers: Record<string, string>;
    try {
      headers = this.headers(config);
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
    let body: string | undefined;
    if (config.method === 'GET') for (const [k, v] of Object.entries(rest)) url.searchParams.set(k, v);
    else {
      body = JSON.stringify(rest);
      headers['content-type'] = 'application/json';
    }
    try {
      const response = await fetch(url, { method: config.method, headers, body, signal: AbortSignal.timeout(config.timeoutMs) });
      const type = response.headers.get('content-type') ?? '';
      const text = await response.text();
      if (!response.ok) return { ok: false, error: `${name} answered ${response.status}` };
      if (!/^application\/([\w.+-]+\+)?json\b/i.test(type))
        return { ok: false, error: `${name} answered ${type || 'no content type'}, not JSON` };
      if (Buffer.byteLength(text) > MAX_ANSWER_BYTES) return { ok: false, error: `${name} answered more than ${MAX_ANSWER_BYTES} bytes` };
      const data: unknown = JSON.parse(text);
      if (!data || typeof data !== 'object' || Array.isArray(data))
        return { ok: false, error: `${name} answered JSON that is not an object` };
      return { ok: true, data: data as Record<string, unknown> };
    } catch (error) {
      const e = error as Error;
      if (e.name === 'TimeoutError') return { ok: false, error: `${name} did not answer within ${config.timeoutMs} ms` };
      if (e instanceof SyntaxError) return { ok: false, error: `${name} answered invalid JSON` };
      return { ok: false, error: `${name} failed: ${e.message}` };
    }
  }

  private headers(config: IntegrationConfig): Record<string, string> {
    const out: Record<string, string> = { accept: 'application/json' };
    for (const [name, value] of Object.entries(config.headers)) {
      if (typeof value === 'string') out[name] = SECRET_REF.test(value) ? this.secret(value) : value;
      else out[name] = `${value.prefix ?? ''}${this.secret(value.secret)}`;
    }
    return out;
  }

  private secret(ref: string): string {
    if (ref.startsWith('env:')) {
      const value = this.env[ref.slice(4)];
      if (!value) throw new Error(`secret ${ref} is not set`);
      return value;
    }
    try {
      return readFileSync(ref.slice(5), 'utf8').trim();
    } catch {
      throw new Error(`secret ${ref} cannot be read`);
    }
  }
}
