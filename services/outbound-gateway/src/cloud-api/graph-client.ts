import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

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
  private readonly base: URL;
  // Keep-alive connections, many per origin: at 1,000 msg/s and ~300 ms per call, ~300 are in flight.
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {
    this.base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
    const options = { keepAlive: true, maxSockets: 1024, maxFreeSockets: 256, scheduling: 'lifo' as const };
    this.agent = this.base.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
  }

  /**
   * POST /{version}/{phone-number-id}/messages. Plain node:http(s) rather than fetch: this is the
   * hot path (every message), and fetch's web streams and abort signals cost several times more CPU.
   */
  sendMessage(target: GraphTarget, payload: Record<string, unknown>): Promise<CallOutcome> {
    const url = new URL(`${target.graphVersion}/${target.phoneNumberId}/messages`, this.base);
    const body = Buffer.from(JSON.stringify(payload));
    return new Promise<CallOutcome>((resolve) => {
      let settled = false;
      const done = (outcome: CallOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { authorization: `Bearer ${target.accessToken}`, 'content-type': 'application/json', 'content-length': body.length },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done(interpret(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
          // Status line arrived but the body did not: Meta may well have accepted it.
          res.on('error', (error) => done({ kind: 'uncertain', detail: `response body lost: ${error.message}` }));
        },
      );
      const timer = setTimeout(() => {
        done({ kind: 'uncertain', detail: 'timed out waiting for the Cloud API' });
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) => {
        // Refused or unresolvable: no connection, so it cannot have reached Meta. Anything else
        // (a reset, a hang-up) may have happened after Meta read the request.
        if (error.code && NOT_SENT_CODES.has(error.code)) return done({ kind: 'not-sent', detail: `${error.code}: ${error.message}` });
        done({ kind: 'uncertain', detail: `${error.code ?? error.name}: ${error.message}` });
      });
      req.end(body);
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
    return interpret(response.status, text);
  }
}

/** Reads a Cloud API answer: a wamid (or success/media id), Meta's error body, or something in between. */
export function interpret(status: number, text: string): CallOutcome {
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (status >= 200 && status < 300) {
    const b = (body ?? {}) as { messages?: { id?: string; message_status?: string }[]; success?: boolean; id?: string };
    const message = b.messages?.[0];
    if (message?.id) return { kind: 'accepted', httpStatus: status, wamid: message.id, messageStatus: message.message_status };
    if (b.success === true) return { kind: 'accepted', httpStatus: status };
    if (typeof b.id === 'string') return { kind: 'accepted', httpStatus: status, mediaId: b.id };
    // 2xx without a wamid: Meta took it, but we cannot name it; a status webhook will.
    return { kind: 'uncertain', detail: `HTTP ${status} without a message id` };
  }
  const error = (body as MetaErrorBody | undefined)?.error;
  if (!error) {
    // A 5xx from a proxy or load balancer: the request may have reached Meta.
    if (status >= 500) return { kind: 'uncertain', detail: `HTTP ${status} without a Cloud API error body` };
    return { kind: 'error', httpStatus: status, message: `HTTP ${status} without a Cloud API error body` };
  }
  return {
    kind: 'error',
    httpStatus: status,
    code: typeof error.code === 'number' ? error.code : Number.isFinite(Number(error.code)) ? Number(error.code) : undefined,
    title: typeof error.error_user_title === 'string' ? error.error_user_title : typeof error.type === 'string' ? error.type : undefined,
    message: typeof error.message === 'string' ? error.message : undefined,
    details: typeof error.error_data?.details === 'string' ? error.error_data.details : undefined,
    fbtraceId: typeof error.fbtrace_id === 'string' ? error.fbtrace_id : undefined,
  };
}

export function classifyFetchFailure(error: unknown): CallOutcome {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return { kind: 'uncertain', detail: 'timed out waiting for the Cloud API' };
  const code = e?.cause?.code;
  if (code && NOT_SENT_CODES.has(code)) return { kind: 'not-sent', detail: `${code}: ${e.cause?.message ?? ''}`.trim() };
  return { kind: 'uncertain', detail: `${code ?? e?.name ?? 'error'}: ${e?.cause?.message ?? e?.message ?? String(error)}` };
}
