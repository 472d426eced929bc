// The router's REST API and event stream as the console uses them (docs/handoff.md). The bearer
// token from sign-in lives in sessionStorage: it ends with the tab, and other tabs never see it.
import { SseParser, type MetaError } from './format';

const TOKEN_KEY = 'handoff-console.token';
/** Longer than the router's keepalive interval (HANDOFF_STREAM_KEEPALIVE_MS, 15 s by default). */
const STREAM_SILENCE_MS = 45_000;

export type Presence = 'online' | 'away' | 'offline';
export type ConversationState = 'queued' | 'assigned' | 'survey' | 'closed';

export interface Agent {
  id: string;
  name: string;
  tenant?: string;
  roles?: string[];
  departments?: string[];
  languages?: string[];
  capacity?: number;
  presence?: Presence;
  load?: number;
}

export interface Citizen {
  name?: string;
  waId?: string;
  phone?: string;
  language?: string;
}

export interface ConversationSummary {
  id: string;
  state: ConversationState;
  department: string;
  language: string;
  reason?: string;
  citizen: Citizen;
  queuedAt?: string;
  assignedAt?: string | null;
  agentId?: string | null;
  lastMessageAt?: string | null;
  lastMessage?: string | null;
  unread?: number;
}

export interface TranscriptLine {
  id: string;
  at: string;
  /** Who wrote it: the citizen, the bot, an agent, an internal note, or the system. */
  author: 'citizen' | 'bot' | 'agent' | 'note' | 'system';
  agentId?: string;
  agentName?: string;
  kind?: string;
  text?: string;
  media?: { url?: string; link?: string; mimeType?: string; filename?: string; caption?: string };
  template?: { name: string; language: string };
  /** Delivery of an agent's message: pending, held (window closed), sent, delivered, read, failed. */
  status?: string;
  error?: MetaError;
}

export interface Composer {
  window: 'open' | 'closed';
  closesAt: string | null;
  allowed: string[];
  freeReply: 'send' | 'hold';
}

export interface Conversation extends ConversationSummary {
  transcript: TranscriptLine[];
  /** The citizen's earlier handoffs, oldest first. */
  earlier?: TranscriptLine[];
  composer: Composer;
}

export interface CannedResponse {
  id: string;
  title: string;
  text: string;
  language: string;
  department?: string;
}

export interface Template {
  name: string;
  language: string;
  body?: string;
  parameters?: number;
  /** Named parameters the agent fills in (`first_name`). */
  parameterNames?: string[];
}

export interface DepartmentLoad {
  id: string;
  name?: string;
  waiting: number;
  longestWaitSeconds?: number;
  oldestQueuedAt?: string | null;
  assigned?: number;
  agentsOnline?: number;
  slaSeconds?: number;
}

export interface Overview {
  departments: DepartmentLoad[];
  agents: Agent[];
}

export interface SignInConfig {
  mode: 'sandbox' | 'oidc';
  agents?: Agent[];
  /** Production: where the OIDC authorisation request starts. */
  authorizeUrl?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Claims of the token, for the agent's id and roles (the server checks the signature). */
export function tokenClaims(token: string): { sub?: string; tenant?: string; roles?: string[]; exp?: number } {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(decodeURIComponent(escape(atob(part)))) as { sub?: string };
  } catch {
    return {};
  }
}

export class Api {
  constructor(private token: string | null = savedToken()) {}

  get signedIn(): boolean {
    return this.token !== null;
  }

  get claims() {
    return this.token ? tokenClaims(this.token) : {};
  }

  setToken(token: string | null): void {
    this.token = token;
    saveToken(token);
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(path, {
      method,
      headers: {
        accept: 'application/json',
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const error = (json ?? {}) as { code?: string; message?: string };
      throw new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? response.statusText);
    }
    return json as T;
  }

  signInConfig = () => this.call<SignInConfig>('GET', '/v1/console/sign-in');
  devSignIn = (agentId: string, tenantId?: string) =>
    this.call<{ token: string; agent: Agent }>('POST', '/v1/console/dev-sign-in', { agentId, tenantId });
  me = () => this.call<Agent>('GET', '/v1/agents/me');
  heartbeat = (presence: Presence) => this.call<Agent>('POST', '/v1/agents/me/heartbeat', { presence });
  conversations = () => this.call<ConversationSummary[]>('GET', '/v1/conversations?scope=mine');
  queue = () => this.call<ConversationSummary[]>('GET', '/v1/conversations?state=queued');
  conversation = (id: string) => this.call<Conversation>('GET', `/v1/conversations/${encodeURIComponent(id)}`);
  claim = (id: string) => this.call<Conversation>('POST', `/v1/conversations/${encodeURIComponent(id)}/claim`);
  /** `clientMessageId` makes a retried send the same reply (the router sends it once). */
  reply = (
    id: string,
    body: (
      | { kind: 'text'; text: string }
      | { kind: 'template'; template: { name: string; language: string; parameters?: Record<string, string> } }
    ) & {
      clientMessageId: string;
    },
  ) => this.call<TranscriptLine>('POST', `/v1/conversations/${encodeURIComponent(id)}/messages`, body);
  note = (id: string, text: string) => this.call<TranscriptLine>('POST', `/v1/conversations/${encodeURIComponent(id)}/notes`, { text });
  transfer = (id: string, to: { department?: string; agentId?: string; note?: string }) =>
    this.call<Conversation>('POST', `/v1/conversations/${encodeURIComponent(id)}/transfer`, to);
  close = (id: string) => this.call<Conversation>('POST', `/v1/conversations/${encodeURIComponent(id)}/close`, {});
  canned = (language?: string) =>
    this.call<CannedResponse[]>('GET', `/v1/canned-responses${language ? `?language=${encodeURIComponent(language)}` : ''}`);
  templates = (language: string) => this.call<Template[]>('GET', `/v1/templates?language=${encodeURIComponent(language)}`);
  departments = (language: string) => this.call<DepartmentLoad[]>('GET', `/v1/departments?language=${encodeURIComponent(language)}`);
  overview = () => this.call<Overview>('GET', '/v1/supervisor/overview');

  /**
   * The live event stream, read with fetch so the bearer token goes in a header (EventSource can
   * send none). On a drop it reconnects with `Last-Event-ID`, so the server replays what was missed,
   * and tells the page while it is away.
   */
  stream(handlers: { event: (type: string, data: unknown) => void; status: (connected: boolean, attempt: number) => void }): () => void {
    let stopped = false;
    let lastEventId: string | undefined;
    let retryMs = 1000;
    let controller: AbortController | undefined;
    let attempt = 0;
    const run = async () => {
      while (!stopped) {
        const current = new AbortController();
        controller = current;
        let watchdog: ReturnType<typeof setTimeout> | undefined;
        try {
          const response = await fetch('/v1/stream', {
            headers: {
              accept: 'text/event-stream',
              ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
              ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
            },
            signal: current.signal,
            cache: 'no-store',
          });
          if (response.status === 401) {
            handlers.event('unauthorized', {});
            return;
          }
          if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
          attempt = 0;
          handlers.status(true, 0);
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          const parser = new SseParser();
          // The server sends a comment on an idle stream; silence for longer means a dead
          // connection that TCP has not noticed (a sleeping laptop, a proxy that dropped it).
          watchdog = setTimeout(() => current.abort(), STREAM_SILENCE_MS);
          for (;;) {
            const { value, done } = await reader.read();
            clearTimeout(watchdog);
            if (done) break;
            watchdog = setTimeout(() => current.abort(), STREAM_SILENCE_MS);
            for (const event of parser.push(value)) {
              if (event.id) lastEventId = event.id;
              if (event.retry) retryMs = event.retry;
              let data: unknown = event.data;
              try {
                data = event.data ? JSON.parse(event.data) : {};
              } catch {
                // plain text data stays text
              }
              handlers.event(event.event, data);
            }
          }
        } catch {
          // dropped or refused: reconnect below
        } finally {
          clearTimeout(watchdog);
        }
        if (stopped) return;
        attempt++;
        handlers.status(false, attempt);
        await new Promise((r) => setTimeout(r, Math.min(15000, retryMs * Math.min(attempt, 5))));
      }
    };
    void run();
    return () => {
      stopped = true;
      controller?.abort();
    };
  }
}
