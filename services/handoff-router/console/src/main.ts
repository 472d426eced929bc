// The agent console: one Lit element rendering into the light DOM (one stylesheet, no inline
// styles, so the self-only Content-Security-Policy holds), routed by the URL's hash.
import { LitElement, html, nothing, type TemplateResult } from 'lit';
import {
  Api,
  ApiError,
  type Agent,
  type CannedResponse,
  type Conversation,
  type ConversationSummary,
  type Overview,
  type SignInConfig,
  type Template,
  type TranscriptLine,
  type DepartmentLoad,
} from './api';
import { byLanguage, duration, inLanguage, maskPhone, metaErrorText, secondsSince, step, windowState } from './format';

const STATE_WORDS: Record<string, string> = {
  queued: 'waiting in the queue',
  assigned: 'with an agent',
  survey: 'closed, rating asked',
  closed: 'closed',
};

/** The first word of a profile name, for a template's `first_name`. */
const firstName = (name: string | undefined) => (name ?? '').trim().split(/\s+/)[0] ?? '';

/** `asked_for_agent` → `asked for agent`. */
const words = (code: string | null | undefined) => (code ?? '').replace(/_/g, ' ');

type Route = { view: 'sign-in' } | { view: 'inbox' } | { view: 'conversation'; id: string } | { view: 'supervisor' };

function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const m = /^\/c\/([^/]+)$/.exec(path);
  if (m) return { view: 'conversation', id: decodeURIComponent(m[1]) };
  if (path === '/supervisor') return { view: 'supervisor' };
  if (path === '/sign-in') return { view: 'sign-in' };
  return { view: 'inbox' };
}

const SHORTCUTS: [string, string][] = [
  ['j / k', 'next / previous conversation'],
  ['Enter', 'open the selected conversation'],
  ['/', 'write in the composer'],
  ['Ctrl+Enter', 'send (Enter alone also sends; Shift+Enter for a new line)'],
  ['i', 'my conversations and the queue'],
  ['s', 'supervisor view'],
  ['?', 'show or hide these shortcuts'],
  ['Esc', 'leave the composer or close a dialog'],
];

const HEARTBEAT_MS = 15000;

export class HandoffConsole extends LitElement {
  private api = new Api();
  private route: Route = parseRoute(location.hash);
  private me: Agent | null = null;
  private signIn: SignInConfig | null = null;
  private mine: ConversationSummary[] = [];
  private queued: ConversationSummary[] = [];
  private departments: DepartmentLoad[] = [];
  private current: Conversation | null = null;
  private canned: CannedResponse[] = [];
  private templates: Template[] = [];
  private overview: Overview | null = null;
  private selected = -1;
  private connected: boolean | null = null;
  private reconnectAttempt = 0;
  private showHelp = false;
  private notice = '';
  private error = '';
  private busy = false;
  private transferOpen = false;
  private noteMode = false;
  /** What the agent chose: online gets new conversations, away keeps the current ones only. */
  private presence: 'online' | 'away' = 'online';
  private templateChoice = '';
  private stopStream: (() => void) | null = null;
  private timers: number[] = [];
  private refreshQueued = false;

  private lastLineSeen = '';

  // A new line in the transcript scrolls it to the bottom, where the conversation is.
  protected override updated(): void {
    const lines = this.current?.transcript ?? [];
    const last = this.current ? `${this.current.id}:${lines.length}:${lines[lines.length - 1]?.id ?? ''}` : '';
    if (last === this.lastLineSeen) return;
    this.lastLineSeen = last;
    const list = this.querySelector('.transcript');
    if (list) list.scrollTop = list.scrollHeight;
  }

  // Light DOM: the page's one stylesheet styles everything.
  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.onHash);
    document.addEventListener('keydown', this.onKey);
    void this.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('hashchange', this.onHash);
    document.removeEventListener('keydown', this.onKey);
    this.stop();
  }

  private async start(): Promise<void> {
    // Production sign-in hands the token back in the fragment (docs/console/README.md): keep it in
    // sessionStorage and take it out of the address bar and the history at once.
    const handedBack = /^#access_token=([^&]+)/.exec(location.hash);
    if (handedBack) {
      this.api.setToken(decodeURIComponent(handedBack[1]));
      history.replaceState(null, '', `${location.pathname}#/`);
      this.route = { view: 'inbox' };
    }
    if (!this.api.signedIn) {
      await this.loadSignIn();
      return;
    }
    try {
      this.me = await this.api.me();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return this.signOut('Your session ended; sign in again.');
      this.error = `The router did not answer: ${(error as Error).message}`;
    }
    if (this.route.view === 'sign-in') location.hash = '#/';
    this.stopStream = this.api.stream({
      event: (type) => (type === 'unauthorized' ? void this.signOut('Your session ended; sign in again.') : this.scheduleRefresh()),
      status: (connected, attempt) => {
        const wasDown = this.connected === false;
        this.connected = connected;
        this.reconnectAttempt = attempt;
        // Anything may have changed while the stream was away.
        if (connected && wasDown) this.scheduleRefresh();
        this.requestUpdate();
      },
    });
    void this.beat();
    this.timers.push(window.setInterval(() => void this.beat(), HEARTBEAT_MS));
    // Waiting times and the window's countdown move on their own.
    this.timers.push(window.setInterval(() => this.requestUpdate(), 1000));
    await this.refresh();
  }

  private stop(): void {
    this.stopStream?.();
    this.stopStream = null;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private async beat(): Promise<void> {
    try {
      await this.api.heartbeat(this.presence);
    } catch {
      // the stream's status shows a lost connection
    }
  }

  private async loadSignIn(): Promise<void> {
    this.route = { view: 'sign-in' };
    try {
      this.signIn = await this.api.signInConfig();
    } catch (error) {
      this.error = `Sign-in is not available: ${(error as Error).message}`;
    }
    this.requestUpdate();
  }

  private async signOut(message = ''): Promise<void> {
    // Leaving on purpose: offline at once rather than after the heartbeat's grace period.
    if (!message) await this.api.heartbeat('offline').catch(() => undefined);
    this.stop();
    document.title = 'Agent console';
    this.presence = 'online';
    this.api.setToken(null);
    this.me = null;
    this.current = null;
    this.mine = [];
    this.notice = message;
    location.hash = '#/sign-in';
    await this.loadSignIn();
  }

  /**
   * Events arrive in bursts: one refresh per burst is enough. A timer, not an animation frame:
   * a console in a background tab must still follow (frames stop there).
   */
  private scheduleRefresh(): void {
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    setTimeout(() => {
      this.refreshQueued = false;
      void this.refresh();
    }, 50);
  }

  private async refresh(): Promise<void> {
    if (!this.api.signedIn) return;
    try {
      const route = this.route;
      const [mine, queued, departments] = await Promise.all([this.api.conversations(), this.api.queue(), this.api.departments('en')]);
      this.mine = mine;
      this.queued = queued;
      this.departments = departments;
      // The tab's title tells an agent working in another tab that someone is waiting.
      document.title = `${queued.length ? `(${queued.length} waiting) ` : ''}${mine.length} mine · Agent console`;
      if (route.view === 'conversation') await this.loadConversation(route.id);
      if (route.view === 'supervisor') this.overview = await this.api.overview();
      this.error = '';
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return this.signOut('Your session ended; sign in again.');
      this.error = (error as Error).message;
    }
    this.requestUpdate();
  }

  private async loadConversation(id: string): Promise<void> {
    const changed = this.current?.id !== id;
    this.current = await this.api.conversation(id);
    if (changed || !this.canned.length) this.canned = await this.api.canned(this.current.language).catch(() => []);
    if (this.current.composer.window === 'closed' || changed) {
      this.templates = await this.api.templates(this.current.language).catch(() => []);
    }
    if (changed) this.requestUpdate();
    const list = this.list();
    this.selected = list.findIndex((c) => c.id === id);
  }

  private onHash = () => {
    this.route = parseRoute(location.hash);
    if (this.route.view !== 'sign-in' && !this.api.signedIn) return void this.loadSignIn();
    this.transferOpen = false;
    this.noteMode = false;
    if (this.route.view !== 'conversation') {
      this.current = null;
      this.selected = -1;
    }
    void this.refresh();
    this.requestUpdate();
  };

  private list(): ConversationSummary[] {
    return [...this.mine, ...this.queued.filter((q) => !this.mine.some((m) => m.id === q.id))];
  }

  private onKey = (event: KeyboardEvent) => {
    const target = event.target as HTMLElement;
    const typing = target.matches('input, textarea, select');
    if (event.key === 'Escape') {
      if (this.showHelp || this.transferOpen) {
        this.showHelp = false;
        this.transferOpen = false;
        this.requestUpdate();
      } else if (typing) target.blur();
      return;
    }
    if (typing || event.ctrlKey || event.metaKey || event.altKey || !this.me) return;
    const list = this.list();
    switch (event.key) {
      case 'j':
      case 'k': {
        this.selected = step(this.selected, event.key === 'j' ? 1 : -1, list.length);
        this.requestUpdate();
        void this.updateComplete.then(() => this.querySelector<HTMLElement>('.conversations [aria-current="true"] a')?.focus());
        break;
      }
      case 'Enter':
        if (this.selected >= 0 && list[this.selected] && target === document.body)
          location.hash = `#/c/${encodeURIComponent(list[this.selected].id)}`;
        return;
      case '/':
        this.querySelector<HTMLElement>('#composer-text, #template-picker')?.focus();
        break;
      case 'i':
        location.hash = '#/';
        break;
      case 's':
        location.hash = '#/supervisor';
        break;
      case '?':
        this.showHelp = !this.showHelp;
        this.requestUpdate();
        break;
      default:
        return;
    }
    event.preventDefault();
  };

  private async act(what: () => Promise<unknown>, done = ''): Promise<void> {
    this.busy = true;
    this.error = '';
    this.requestUpdate();
    try {
      await what();
      this.notice = done;
      await this.refresh();
    } catch (error) {
      this.error = error instanceof ApiError ? `${error.message} (${error.code})` : (error as Error).message;
    } finally {
      this.busy = false;
      this.requestUpdate();
    }
  }

  // ---------------------------------------------------------------- views

  protected override render(): TemplateResult {
    if (this.route.view === 'sign-in' || !this.api.signedIn) return this.renderSignIn();
    return html`
      <a class="skip" href="#main">Skip to content</a>
      <header class="bar">
        <span class="brand">Agent console</span>
        <nav aria-label="Views">
          <a href="#/" aria-current=${this.route.view === 'inbox' || this.route.view === 'conversation' ? 'page' : 'false'}
            >Conversations</a
          >
          ${this.isSupervisor()
            ? html`<a href="#/supervisor" aria-current=${this.route.view === 'supervisor' ? 'page' : 'false'}>Supervisor</a>`
            : nothing}
        </nav>
        ${this.renderConnection()}
        <label class="presence-choice"
          >Presence
          <select
            title="Away: no new conversations; the current ones stay yours"
            @change=${(e: Event) => {
              this.presence = (e.target as HTMLSelectElement).value as 'online' | 'away';
              void this.beat();
            }}
          >
            <option value="online" ?selected=${this.presence === 'online'}>online</option>
            <option value="away" ?selected=${this.presence === 'away'}>away</option>
          </select></label
        >
        <span class="who"><bdi>${this.me?.name ?? this.api.claims.sub ?? ''}</bdi></span>
        <button type="button" class="link" @click=${() => ((this.showHelp = !this.showHelp), this.requestUpdate())} aria-keyshortcuts="?">
          Shortcuts
        </button>
        <button type="button" class="link" @click=${() => this.signOut()}>Sign out</button>
      </header>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.notice ? html`<p class="notice" role="status">${this.notice}</p>` : nothing}
      ${this.route.view === 'supervisor' ? this.renderSupervisor() : this.renderWorkspace()} ${this.showHelp ? this.renderHelp() : nothing}
    `;
  }

  private isSupervisor(): boolean {
    const roles = this.me?.roles ?? this.api.claims.roles ?? [];
    return roles.includes('supervisor') || roles.includes('admin');
  }

  private renderConnection(): TemplateResult {
    if (this.connected === false) {
      return html`<span class="connection down" role="status">Connection lost, reconnecting (attempt ${this.reconnectAttempt})…</span>`;
    }
    if (this.connected === true) return html`<span class="connection up" role="status">Live</span>`;
    return html`<span class="connection" role="status">Connecting…</span>`;
  }

  private renderSignIn(): TemplateResult {
    const config = this.signIn;
    return html`
      <main id="main" class="sign-in">
        <h1>Agent console</h1>
        ${this.notice ? html`<p class="notice" role="status">${this.notice}</p>` : nothing}
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        ${config?.mode === 'sandbox'
          ? html`
              <p>Sandbox mode: pick a sample agent. The router mints a development token for them.</p>
              ${[...new Set((config.agents ?? []).map((a) => a.tenant ?? ''))].map(
                (tenant) => html`
                  <h2>${tenant}</h2>
                  <ul class="agents">
                    ${(config.agents ?? [])
                      .filter((a) => (a.tenant ?? '') === tenant)
                      .map(
                        (a) =>
                          html`<li>
                            <button type="button" @click=${() => this.devSignIn(a.id, a.tenant)} ?disabled=${this.busy}>
                              <strong><bdi>${a.name}</bdi></strong>
                              <span>${(a.roles ?? []).join(', ')} · ${a.id}</span>
                            </button>
                          </li>`,
                      )}
                  </ul>
                `,
              )}
            `
          : config?.mode === 'oidc'
            ? config.authorizeUrl
              ? html`<p><a class="button" href=${config.authorizeUrl}>Sign in with your agency account</a></p>`
              : html`<p>
                  Sign in through your agency's identity provider: it opens this console with your access token
                  (<code>/console/#access_token=…</code>). Ask your administrator for the sign-in address.
                </p>`
            : html`<p>Loading…</p>`}
      </main>
    `;
  }

  private async devSignIn(agentId: string, tenantId?: string): Promise<void> {
    this.busy = true;
    try {
      const { token } = await this.api.devSignIn(agentId, tenantId);
      this.api.setToken(token);
      this.notice = '';
      this.error = '';
      location.hash = '#/';
      this.route = { view: 'inbox' };
      await this.start();
    } catch (error) {
      this.error = (error as Error).message;
    } finally {
      this.busy = false;
      this.requestUpdate();
    }
  }

  private renderWorkspace(): TemplateResult {
    return html`
      <div class="workspace">
        <aside class="side" aria-label="Conversations">
          ${this.renderList('Mine', this.mine, 0)} ${this.renderList('Waiting in the queue', this.queued, this.mine.length)}
          ${this.renderDepartments()}
        </aside>
        <main id="main" class="main">
          ${this.current
            ? this.renderConversation(this.current)
            : html`<p class="empty">Pick a conversation (<kbd>j</kbd>/<kbd>k</kbd>, <kbd>Enter</kbd>).</p>`}
        </main>
      </div>
    `;
  }

  private renderList(title: string, items: ConversationSummary[], offset: number): TemplateResult {
    const id = title === 'Mine' ? 'list-mine' : 'list-queue';
    return html`
      <section aria-labelledby=${id}>
        <h2 id=${id}>${title} <span class="count">${items.length}</span></h2>
        ${items.length === 0
          ? html`<p class="empty">None.</p>`
          : html`<ul class="conversations">
              ${items.map((c, i) => {
                const current = this.selected === offset + i;
                const open = this.current?.id === c.id;
                const waiting = c.state === 'queued' ? secondsSince(c.queuedAt) : 0;
                return html`<li aria-current=${current ? 'true' : 'false'} class=${open ? 'open' : ''}>
                  <a href="#/c/${encodeURIComponent(c.id)}">
                    <span class="name"><bdi>${c.citizen.name || maskPhone(c.citizen.waId ?? c.citizen.phone)}</bdi></span>
                    <span class="meta"
                      ><bdi>${this.departmentName(c.department)}</bdi> ·
                      ${c.language}${c.state === 'queued'
                        ? ` · waiting ${duration(waiting)}`
                        : c.state === 'survey'
                          ? ' · closed, rating asked'
                          : ''}</span
                    >
                    ${c.lastMessage ? html`<span class="preview" dir="auto">${c.lastMessage}</span>` : nothing}
                    ${c.unread ? html`<span class="badge" aria-label="${c.unread} unread">${c.unread}</span>` : nothing}
                  </a>
                </li>`;
              })}
            </ul>`}
      </section>
    `;
  }

  private departmentName(id: string): string {
    return this.departments.find((d) => d.id === id)?.name ?? id;
  }

  private agentName(line: TranscriptLine): string {
    if (line.agentName) return line.agentName;
    if (line.agentId && line.agentId === this.me?.id) return 'You';
    return this.overview?.agents.find((a) => a.id === line.agentId)?.name ?? line.agentId ?? 'Agent';
  }

  private renderDepartments(): TemplateResult {
    return html`
      <section aria-labelledby="queues">
        <h2 id="queues">Queues</h2>
        <table class="queues">
          <thead>
            <tr>
              <th scope="col">Department</th>
              <th scope="col">Waiting</th>
              <th scope="col">Longest</th>
            </tr>
          </thead>
          <tbody>
            ${this.departments.map(
              (d) =>
                html`<tr>
                  <th scope="row"><bdi>${d.name ?? d.id}</bdi></th>
                  <td>${d.waiting}</td>
                  <td>${d.waiting ? duration(d.oldestQueuedAt ? secondsSince(d.oldestQueuedAt) : (d.longestWaitSeconds ?? 0)) : '—'}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>
    `;
  }

  private renderConversation(c: Conversation): TemplateResult {
    const mineNow = c.state === 'assigned' && (!c.agentId || c.agentId === this.me?.id);
    return html`
      <article class="conversation" aria-labelledby="conversation-title">
        <header class="conversation-head">
          <div>
            <h1 id="conversation-title" dir="auto">${c.citizen.name || maskPhone(c.citizen.waId ?? c.citizen.phone)}</h1>
            <dl class="details">
              <dt>Number</dt>
              <dd>${maskPhone(c.citizen.waId ?? c.citizen.phone)}</dd>
              <dt>Language</dt>
              <dd>${c.language}</dd>
              <dt>Department</dt>
              <dd><bdi>${this.departmentName(c.department)}</bdi></dd>
              <dt>Reason</dt>
              <dd>${words(c.reason) || '—'}</dd>
              <dt>State</dt>
              <dd>${STATE_WORDS[c.state] ?? c.state}${c.state === 'queued' ? ` · waiting ${duration(secondsSince(c.queuedAt))}` : ''}</dd>
            </dl>
          </div>
          <div class="actions">
            ${c.state === 'queued'
              ? html`<button
                  type="button"
                  @click=${() => this.act(() => this.api.claim(c.id), 'Conversation taken.')}
                  ?disabled=${this.busy}
                >
                  Take it
                </button>`
              : nothing}
            ${mineNow
              ? html`
                  <button
                    type="button"
                    @click=${() => ((this.transferOpen = !this.transferOpen), this.requestUpdate())}
                    aria-expanded=${String(this.transferOpen)}
                  >
                    Transfer…
                  </button>
                  <button type="button" class="danger" @click=${() => this.closeConversation(c)} ?disabled=${this.busy}>Close</button>
                `
              : nothing}
          </div>
        </header>
        ${this.transferOpen ? this.renderTransfer(c) : nothing}
        <ol class="transcript" aria-label="Transcript" aria-live="polite">
          ${c.earlier?.length
            ? html`<li class="earlier">
                <details>
                  <summary>Earlier conversations (${c.earlier.length} lines)</summary>
                  <ol>
                    ${c.earlier.map((line) => this.renderLine(line))}
                  </ol>
                </details>
              </li>`
            : nothing}
          ${c.transcript.map((line) => this.renderLine(line))}
        </ol>
        ${mineNow
          ? this.renderComposer(c)
          : c.state === 'closed' || c.state === 'survey'
            ? html`<p class="empty">
                ${c.state === 'survey'
                  ? 'Closed: the citizen is asked to rate the conversation, then the bot answers again.'
                  : 'Closed: the citizen is back with the bot.'}
              </p>`
            : nothing}
      </article>
    `;
  }

  private renderLine(line: TranscriptLine): TemplateResult {
    const who =
      line.author === 'citizen'
        ? 'Citizen'
        : line.author === 'bot'
          ? 'Bot'
          : line.author === 'note'
            ? `Note · ${this.agentName(line)}`
            : line.author === 'system'
              ? ''
              : this.agentName(line);
    const time = new Date(line.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    return html`<li class="line ${line.author}">
      <span class="who">${who}</span>
      ${line.text ? html`<p class="text" dir="auto">${line.text}</p>` : nothing}
      ${line.template ? html`<p class="template">Template <code>${line.template.name}</code> (${line.template.language})</p>` : nothing}
      ${line.media?.url || line.media?.link
        ? html`<p>
            <a href=${line.media.url ?? line.media.link} target="_blank" rel="noopener noreferrer"
              >${line.media.filename ?? line.media.mimeType ?? 'media'}</a
            >
            ${line.media.caption ? html`<span dir="auto">${line.media.caption}</span>` : nothing}
          </p>`
        : line.kind && !line.text && !line.template
          ? html`<p class="kind">[${line.kind}]</p>`
          : nothing}
      <span class="time"><time datetime=${line.at}>${time}</time>${line.status ? html` · ${this.statusWords(line.status)}` : nothing}</span>
      ${line.error ? html`<p class="error delivery" role="alert">${metaErrorText(line.error)}</p>` : nothing}
    </li>`;
  }

  private statusWords(status: string): string {
    return (
      {
        pending: 'sending',
        held: 'held until the citizen writes again (window closed)',
        sent: 'sent',
        delivered: 'delivered',
        read: 'read',
        failed: 'not delivered',
      }[status] ?? status
    );
  }

  private renderComposer(c: Conversation): TemplateResult {
    const w = windowState(c.composer.closesAt);
    const open = c.composer.window === 'open' && w.open;
    const canned = byLanguage(
      this.canned.filter((r) => !r.department || r.department === c.department),
      c.language,
    );
    const templates = inLanguage(this.templates, c.language);
    const chosen = templates.find((t) => `${t.name}|${t.language}` === this.templateChoice) ?? templates[0];
    return html`
      <section class="composer" aria-label="Reply">
        <p class=${open ? 'window open' : 'window closed'} role="status">${open ? w.label : windowState(null).label}</p>
        ${open || this.noteMode
          ? html`
              <form @submit=${(e: Event) => this.submitText(e, c)}>
                <label for="composer-text"
                  >${this.noteMode ? 'Internal note (the citizen does not see it)' : `Reply to the citizen (${c.language})`}</label
                >
                <textarea
                  id="composer-text"
                  name="text"
                  rows="3"
                  dir="auto"
                  required
                  @keydown=${(e: KeyboardEvent) => this.composerKey(e)}
                ></textarea>
                <div class="row">
                  ${canned.length && !this.noteMode
                    ? html`<label for="canned">Canned response</label>
                        <select id="canned" @change=${(e: Event) => this.useCanned(e)}>
                          <option value="">—</option>
                          ${canned.map((r) => html`<option value=${r.id}>${r.title} (${r.language})</option>`)}
                        </select>`
                    : nothing}
                  <label class="check"
                    ><input
                      type="checkbox"
                      .checked=${this.noteMode}
                      @change=${(e: Event) => ((this.noteMode = (e.target as HTMLInputElement).checked), this.requestUpdate())}
                    />
                    Internal note</label
                  >
                  <button type="submit" ?disabled=${this.busy}>${this.noteMode ? 'Add note' : 'Send'}</button>
                </div>
              </form>
            `
          : html`
              <form @submit=${(e: Event) => this.submitTemplate(e, c)}>
                <label for="template-picker">Approved template in ${c.language}</label>
                <div class="row">
                  <select
                    id="template-picker"
                    name="template"
                    required
                    @change=${(e: Event) => ((this.templateChoice = (e.target as HTMLSelectElement).value), this.requestUpdate())}
                  >
                    ${templates.length
                      ? templates.map(
                          (t) =>
                            html`<option value="${t.name}|${t.language}" ?selected=${`${t.name}|${t.language}` === this.templateChoice}>
                              ${t.name}${t.body ? ` — ${t.body.slice(0, 60)}` : ''}
                            </option>`,
                        )
                      : html`<option value="">No approved template in ${c.language}</option>`}
                  </select>
                  <button type="submit" ?disabled=${this.busy || !templates.length}>Send template</button>
                </div>
                ${(chosen?.parameterNames ?? []).map(
                  (p) =>
                    html`<label class="parameter"
                      >${words(p)}
                      <input name="param:${p}" dir="auto" required .value=${p === 'first_name' ? firstName(c.citizen.name) : ''} />
                    </label>`,
                )}
              </form>
              <details class="held">
                <summary>Write a free reply anyway (it is held)</summary>
                <form @submit=${(e: Event) => this.submitText(e, c)}>
                  <label for="composer-text">Held until the citizen writes again</label>
                  <textarea
                    id="composer-text"
                    name="text"
                    rows="2"
                    dir="auto"
                    required
                    @keydown=${(e: KeyboardEvent) => this.composerKey(e)}
                  ></textarea>
                  <button type="submit" ?disabled=${this.busy}>Hold reply</button>
                </form>
              </details>
              <label class="check"
                ><input
                  type="checkbox"
                  .checked=${this.noteMode}
                  @change=${(e: Event) => ((this.noteMode = (e.target as HTMLInputElement).checked), this.requestUpdate())}
                />
                Internal note</label
              >
            `}
      </section>
    `;
  }

  private composerKey(event: KeyboardEvent): void {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      (event.target as HTMLTextAreaElement).form?.requestSubmit();
    }
  }

  private useCanned(event: Event): void {
    const select = event.target as HTMLSelectElement;
    const response = this.canned.find((r) => r.id === select.value);
    const text = this.querySelector<HTMLTextAreaElement>('#composer-text');
    if (response && text) {
      text.value = response.text;
      text.focus();
    }
    select.value = '';
  }

  private submitText(event: Event, c: Conversation): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const field = form.elements.namedItem('text') as HTMLTextAreaElement;
    const text = field.value.trim();
    if (!text) return;
    const note = this.noteMode;
    // Sending the same text again after a failure is a retry of the same reply: same id.
    if (field.dataset.pendingText !== text) {
      field.dataset.pendingText = text;
      field.dataset.clientMessageId = crypto.randomUUID();
    }
    const clientMessageId = field.dataset.clientMessageId!;
    void this.act(
      async () => {
        if (note) await this.api.note(c.id, text);
        else await this.api.reply(c.id, { kind: 'text', text, clientMessageId });
        field.value = '';
        delete field.dataset.pendingText;
      },
      note ? 'Note added.' : c.composer.freeReply === 'hold' ? 'Reply held: it goes out when the citizen writes again.' : '',
    );
  }

  private submitTemplate(event: Event, c: Conversation): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const value = (form.elements.namedItem('template') as HTMLSelectElement).value;
    const [name, language] = value.split('|');
    if (!name) return;
    const parameters: Record<string, string> = {};
    for (const field of Array.from(form.querySelectorAll<HTMLInputElement>('input[name^="param:"]'))) {
      parameters[field.name.slice('param:'.length)] = field.value.trim();
    }
    void this.act(
      () =>
        this.api.reply(c.id, {
          kind: 'template',
          template: { name, language, ...(Object.keys(parameters).length ? { parameters } : {}) },
          clientMessageId: crypto.randomUUID(),
        }),
      'Template sent.',
    );
  }

  private renderTransfer(c: Conversation): TemplateResult {
    return html`
      <form class="transfer" @submit=${(e: Event) => this.submitTransfer(e, c)} aria-label="Transfer">
        <label for="transfer-to">Transfer to</label>
        <select id="transfer-to" name="to" required>
          ${this.departments
            .filter((d) => d.id !== c.department)
            .map((d) => html`<option value="department:${d.id}">Department: ${d.name ?? d.id}</option>`)}
          ${(this.overview?.agents ?? [])
            .filter((a) => a.id !== this.me?.id && a.presence === 'online')
            .map((a) => html`<option value="agent:${a.id}">Agent: ${a.name}</option>`)}
        </select>
        <label for="transfer-note">Note for the next agent</label>
        <input id="transfer-note" name="note" dir="auto" />
        <button type="submit" ?disabled=${this.busy}>Transfer</button>
      </form>
    `;
  }

  private submitTransfer(event: Event, c: Conversation): void {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const [kind, id] = (form.elements.namedItem('to') as HTMLSelectElement).value.split(/:(.*)/);
    const note = (form.elements.namedItem('note') as HTMLInputElement).value.trim() || undefined;
    this.transferOpen = false;
    void this.act(() => this.api.transfer(c.id, kind === 'agent' ? { agentId: id, note } : { department: id, note }), 'Transferred.').then(
      () => {
        location.hash = '#/';
      },
    );
  }

  private closeConversation(c: Conversation): void {
    void this.act(() => this.api.close(c.id), 'Closed: the citizen is back with the bot.').then(() => {
      if (!this.error) location.hash = '#/';
    });
  }

  private renderSupervisor(): TemplateResult {
    const o = this.overview;
    return html`
      <main id="main" class="supervisor">
        <h1>Queues and agents</h1>
        ${!o
          ? html`<p>Loading…</p>`
          : html`
              <section aria-labelledby="sup-queues">
                <h2 id="sup-queues">Queues</h2>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Department</th>
                      <th scope="col">Waiting</th>
                      <th scope="col">Longest wait</th>
                      <th scope="col">With agents</th>
                      <th scope="col">Agents online</th>
                      <th scope="col">SLA</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${o.departments.map((d) => {
                      const longest = d.oldestQueuedAt ? secondsSince(d.oldestQueuedAt) : (d.longestWaitSeconds ?? 0);
                      const late = d.slaSeconds !== undefined && d.waiting > 0 && longest > d.slaSeconds;
                      return html`<tr class=${late ? 'late' : ''}>
                        <th scope="row"><bdi>${d.name ?? d.id}</bdi></th>
                        <td>${d.waiting}</td>
                        <td>${d.waiting ? duration(longest) : '—'}${late ? html` <strong>over SLA</strong>` : nothing}</td>
                        <td>${d.assigned ?? '—'}</td>
                        <td>${d.agentsOnline ?? '—'}</td>
                        <td>${d.slaSeconds !== undefined ? duration(d.slaSeconds) : '—'}</td>
                      </tr>`;
                    })}
                  </tbody>
                </table>
              </section>
              <section aria-labelledby="sup-agents">
                <h2 id="sup-agents">Agents</h2>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Agent</th>
                      <th scope="col">Presence</th>
                      <th scope="col">Load</th>
                      <th scope="col">Departments</th>
                      <th scope="col">Languages</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${o.agents.map(
                      (a) =>
                        html`<tr>
                          <th scope="row"><bdi>${a.name}</bdi></th>
                          <td><span class="presence ${a.presence ?? 'offline'}">${a.presence ?? 'offline'}</span></td>
                          <td>
                            <meter min="0" max=${a.capacity ?? 1} value=${a.load ?? 0} aria-label="load of ${a.name}"></meter>
                            ${a.load ?? 0} / ${a.capacity ?? '?'}
                          </td>
                          <td>${(a.departments ?? []).join(', ')}</td>
                          <td>${(a.languages ?? []).join(', ')}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </section>
            `}
      </main>
    `;
  }

  private renderHelp(): TemplateResult {
    return html`<div class="help" role="dialog" aria-modal="false" aria-labelledby="help-title">
      <h2 id="help-title">Keyboard shortcuts</h2>
      <dl>
        ${SHORTCUTS.map(
          ([k, what]) =>
            html`<dt><kbd>${k}</kbd></dt>
              <dd>${what}</dd>`,
        )}
      </dl>
      <button type="button" @click=${() => ((this.showHelp = false), this.requestUpdate())}>Close</button>
    </div>`;
  }
}

customElements.define('hr-console', HandoffConsole);
