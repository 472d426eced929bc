/** What came of one Cloud API call. */
export type CallOutcome =
  | { kind: 'accepted'; httpStatus: number; wamid?: string; messageStatus?: string; mediaId?: string }
  /** Meta (or something in between) answered with an error. */
  | { kind: 'error'; httpStatus: number; code?: number; title?: string; message?: string; details?: string; fbtraceId?: string }
  /** The request never left (connection refused, DNS): safe to retry. */
  | { kind: 'not-sent'; detail: string }
  /** It may have reached Meta (timeout, connection reset after writing): do not resend blindly. */
  | { kind: 'uncertain'; detail: string };

export interface GraphTarget {
  graphVersion: string;
  phoneNumberId: string;
  accessToken: string;
}

// Connection-level failures that mean the request body was never delivered.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

interface MetaErrorBody {
  error?: {
    code?: unknown;
    message?: unknown;
    type?: unknown;
    error_user_title?: unknown;
    error_data?: { details?: unknown };
    fbtrace_id?: unknown;
  };
}

/**
 * A small typed client for the two Cloud API calls the gateway makes (Meta's Node SDK is
 * unmaintained, §11). Node's fetch (undici) keeps connections alive per origin; every call has a
 * deadline, and each failure is sorted into "never sent" vs "maybe sent" because only the first
 * may be retried without risking a duplicate.
 */
export class GraphClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  sendMessage(target: GraphTarget, payload: Record<string, unknown>): Promise<CallOutcome> {
    return this.call(`${target.graphVersion}/${target.phoneNumberId}/messages`, target.accessToken, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
  }

  /** POST /{phone-number-id}/media (multipart): the id stays valid for 30 days. */
  uploadMedia(target: GraphTarget, file: { data: Buffer; mimeType: string; filename: string }): Promise<CallOutcome> {
    const form = new FormData();
    form.set('messaging_product', 'whatsapp');
    form.set('type', file.mimeType);
    form.set('file', new Blob([file.data], { type: file.mimeType }), file.filename);
    return this.call(`${target.graphVersion}/${target.phoneNumberId}/media`, target.accessToken, { body: form });
  }

  private async call(
    path: string,
    token: string,
    init: { headers?: Record<string, string>; body: string | FormData },
  ): Promise<CallOutcome> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, ...init.headers },
        body: init.body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      return classifyFetchFailure(error);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      // Status line arrived but the body did not: Meta may well have accepted it.
      return { kind: 'uncertain', detail: `response body lost: ${(error as Error).message}` };
    }
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (response.ok) {
      const b = (body ?? {}) as { messages?: { id?: string; message_status?: string }[]; success?: boolean; id?: string };
      const message = b.messages?.[0];
      if (message?.id) return { kind: 'accepted', httpStatus: response.status, wamid: message.id, messageStatus: message.message_status };
      if (b.success === true) return { kind: 'accepted', httpStatus: response.status };
      if (typeof b.id === 'string') return { kind: 'accepted', httpStatus: response.status, mediaId: b.id };
      // 200 without a wamid: Meta took it, but we cannot name it; a status webhook will.
      return { kind: 'uncertain', detail: `HTTP ${response.status} without a message id` };
    }
    const error = (body as MetaErrorBody | undefined)?.error;
    if (!error) {
      // A 5xx from a proxy or load balancer: the request may have reached Meta.
      if (response.status >= 500) return { kind: 'uncertain', detail: `HTTP ${response.status} without a Cloud API error body` };
      return { kind: 'error', httpStatus: response.status, message: `HTTP ${response.status} without a Cloud API error body` };
    }
    return {
      kind: 'error',
      httpStatus: response.status,
      code: typeof error.code === 'number' ? error.code : Number.isFinite(Number(error.code)) ? Number(error.code) : undefined,
      title: typeof error.error_user_title === 'string' ? error.error_user_title : typeof error.type === 'string' ? error.type : undefined,
      message: typeof error.message === 'string' ? error.message : undefined,
      details: typeof error.error_data?.details === 'string' ? error.error_data.details : undefined,
      fbtraceId: typeof error.fbtrace_id === 'string' ? error.fbtrace_id : undefined,
    };
  }
}

export function classifyFetchFailure(error: unknown): CallOutcome {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return { kind: 'uncertain', detail: 'timed out waiting for the Cloud API' };
  const code = e?.cause?.code;
  if (code && NOT_SENT_CODES.has(code)) return { kind: 'not-sent', detail: `${code}: ${e.cause?.message ?? ''}`.trim() };
  return { kind: 'uncertain', detail: `${code ?? e?.name ?? 'error'}: ${e?.cause?.message ?? e?.message ?? String(error)}` };
}
