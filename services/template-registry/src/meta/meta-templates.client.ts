import type { TenantConfig, TenantRegistry } from '@wa/tenancy';

/** A template as Meta's management API describes it (list/get responses). */
export interface MetaTemplate {
  id: string;
  name: string;
  language: string;
  status: string;
  category: string;
  components?: Record<string, unknown>[];
  parameter_format?: string;
  quality_score?: { score?: string };
  rejected_reason?: string;
}

export interface MetaCreateResult {
  id: string;
  status?: string;
  category?: string;
}

export interface MetaPage {
  data: MetaTemplate[];
  /** Cursor for the next page; absent on the last one. */
  after?: string;
}

/** Graph's error codes that mean "slow down" (app, account or WABA rate limits). */
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80007, 130429]);
/** Graph's "temporary" codes. */
const TRANSIENT_CODES = new Set([1, 2]);

/** A failed management call, classified for the submitter: retry later, or tell the author. */
export class MetaApiError extends Error {
  constructor(
    message: string,
    readonly httpStatus: number,
    readonly kind: 'rate_limited' | 'transient' | 'duplicate' | 'rejected' | 'auth',
    readonly code?: number,
    readonly subcode?: number,
    /** Meta's explanation meant for people (error_user_msg), when given. */
    readonly userMessage?: string,
    readonly traceId?: string,
  ) {
    super(message);
    this.name = 'MetaApiError';
  }

  get retriable(): boolean {
    // A bad token is fixed by rotating the secret, not by changing the template: keep the work queued.
    return this.kind === 'rate_limited' || this.kind === 'transient' || this.kind === 'auth';
  }

  /** What an author reads: Meta's user message when there is one, else the technical one. */
  describe(): string {
    const code = this.code !== undefined ? ` (code ${this.code}${this.subcode ? `/${this.subcode}` : ''})` : '';
    return `${this.userMessage ?? this.message}${code}`;
  }
}

type Json = Record<string, unknown>;

/**
 * Meta's template management API (`/{waba-id}/message_templates`, `/{template-id}`), per tenant:
 * the tenant's WABA, Graph version and system-user token (resolved from its secret reference on
 * each call, never logged). Every call here is one request against the WABA's management budget;
 * the caller counts it.
 */
export class MetaTemplatesClient {
  constructor(
    private readonly baseUrl: string,
    private readonly tenants: TenantRegistry,
    private readonly timeoutMs: number,
  ) {}

  async create(tenant: TenantConfig, body: Json): Promise<MetaCreateResult> {
    const result = await this.call(tenant, 'POST', `${tenant.wabaId}/message_templates`, undefined, body);
    if (typeof result.id !== 'string' && typeof result.id !== 'number')
      throw new MetaApiError('create answered without an id', 200, 'transient');
    return { id: String(result.id), status: str(result.status), category: str(result.category) };
  }

  /** Replaces all components (and/or the category) of one translation; Meta reviews it again. */
  async edit(tenant: TenantConfig, templateId: string, body: Json): Promise<void> {
    await this.call(tenant, 'POST', encodeURIComponent(templateId), undefined, body);
  }

  async list(tenant: TenantConfig, options: { after?: string; limit?: number; name?: string } = {}): Promise<MetaPage> {
    const query: Record<string, string> = {
      fields: 'id,name,status,category,language,components,parameter_format,quality_score,rejected_reason',
      limit: String(options.limit ?? 100),
    };
    if (options.after) query.after = options.after;
    if (options.name) query.name = options.name;
    const result = await this.call(tenant, 'GET', `${tenant.wabaId}/message_templates`, query);
    const data = Array.isArray(result.data) ? (result.data as MetaTemplate[]) : [];
    const paging = result.paging as { cursors?: { after?: string }; next?: string } | undefined;
    // Meta sends cursors on every page; only `next` says there is another one.
    return { data, after: paging?.next ? paging.cursors?.after : undefined };
  }

  /** Deletes every language of a name (Meta's "delete by name"). */
  async deleteByName(tenant: TenantConfig, name: string): Promise<void> {
    await this.call(tenant, 'DELETE', `${tenant.wabaId}/message_templates`, { name });
  }

  /** Deletes one language: Meta needs the translation's id (hsm_id) and the name. */
  async deleteTranslation(tenant: TenantConfig, name: string, templateId: string): Promise<void> {
    await this.call(tenant, 'DELETE', `${tenant.wabaId}/message_templates`, { name, hsm_id: templateId });
  }

  private async call(tenant: TenantConfig, method: string, path: string, query?: Record<string, string>, body?: Json): Promise<Json> {
    const url = new URL(`${this.baseUrl.replace(/\/$/, '')}/${tenant.graphApiVersion}/${path}`);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    let token: string;
    try {
      token = this.tenants.secret(tenant.accessTokenRef);
    } catch (error) {
      throw new MetaApiError(`access token of ${tenant.id} is not available: ${(error as Error).message}`, 0, 'auth');
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new MetaApiError(`${method} ${url.pathname} failed: ${(error as Error).message}`, 0, 'transient');
    }
    const text = await response.text();
    let json: Json = {};
    try {
      json = text ? (JSON.parse(text) as Json) : {};
    } catch {
      // Not JSON (a proxy's error page): classified by the HTTP status below.
    }
    if (response.ok && !json.error) return json;
    throw classify(response.status, json, `${method} ${url.pathname}`);
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function classify(status: number, json: Json, what: string): MetaApiError {
  const error = (json.error ?? {}) as Json;
  const code = typeof error.code === 'number' ? error.code : undefined;
  const subcode = typeof error.error_subcode === 'number' ? error.error_subcode : undefined;
  const message = `${what}: ${str(error.message) ?? `HTTP ${status}`}`;
  const userMessage = str(error.error_user_msg);
  const trace = str(error.fbtrace_id);
  let kind: MetaApiError['kind'];
  if (status === 429 || (code !== undefined && RATE_LIMIT_CODES.has(code))) kind = 'rate_limited';
  else if (status >= 500 || status === 0 || (code !== undefined && TRANSIENT_CODES.has(code))) kind = 'transient';
  else if (code === 190 || status === 401) kind = 'auth';
  // 2388024: "a template with this name already exists in this language".
  else if (subcode === 2388024 || /already exists/i.test(`${error.message ?? ''} ${userMessage ?? ''}`)) kind = 'duplicate';
  else kind = 'rejected';
  return new MetaApiError(message, status, kind, code, subcode, userMessage, trace);
}
