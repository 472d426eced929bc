import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { InjectEnv } from '@wa/service-kit';
import type { HandoffEnv } from '../config/env';
import { CONSOLE_CHANNEL, ConsoleEventRepository, type ConsoleEvent } from '../store/console-events.repository';

export interface Audience {
  agentId: string;
  supervisor: boolean;
  departments: string[];
}

/** Whether a console event is for this person (see ConsoleEventInput for the rule). */
export function visibleTo(event: Pick<ConsoleEvent, 'agentId' | 'department'>, who: Audience): boolean {
  if (who.supervisor) return true;
  if (event.agentId) return event.agentId === who.agentId;
  return event.department !== null && event.department !== undefined && who.departments.includes(event.department);
}

interface Subscriber {
  tenantId: string;
  who: Audience;
  send(event: ConsoleEvent): void;
}

/**
 * Fans the console event log out to this replica's open streams. Every replica LISTENs on one
 * Postgres channel; a NOTIFY (sent by the writing transaction at commit) names the tenant, and the
 * hub reads that tenant's new events once for all its subscribers. A slow poll covers a dropped
 * LISTEN connection.
 */
@Injectable()
export class StreamHub implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('StreamHub');
  private client?: Client;
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private readonly cursor = new Map<string, number>();
  private readonly reading = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private poll?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: ConsoleEventRepository,
    @InjectEnv() private readonly env: HandoffEnv,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.listen();
    this.poll = setInterval(() => {
      for (const tenant of this.subscribers.keys()) this.wake(tenant);
    }, 2000);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.env.DATABASE_URL });
    client.on('notification', (n) => n.payload && this.wake(n.payload));
    client.on('error', (error) => {
      this.log.warn({ err: error.message }, 'LISTEN connection lost; reconnecting');
      this.client = undefined;
      setTimeout(() => void this.listen().catch(() => undefined), 1000);
    });
    await client.connect();
    await client.query(`LISTEN ${CONSOLE_CHANNEL}`);
    this.client = client;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    await this.client?.end().catch(() => undefined);
  }

  /** Registers a stream; events after `from` are replayed, then live ones follow, each once and in order. */
  async subscribe(tenantId: string, who: Audience, from: number, send: (e: ConsoleEvent) => void): Promise<() => void> {
    let sent = from;
    let replaying = true;
    const buffered: ConsoleEvent[] = [];
    const deliver = (e: ConsoleEvent) => {
      if (e.seq <= sent) return;
      sent = e.seq;
      if (visibleTo(e, who)) send(e);
    };
    const subscriber: Subscriber = { tenantId, who, send: (e) => (replaying ? buffered.push(e) : deliver(e)) };
    if (!this.cursor.has(tenantId)) this.cursor.set(tenantId, await this.events.last(this.dataSource.manager, tenantId));
    let set = this.subscribers.get(tenantId);
    if (!set) this.subscribers.set(tenantId, (set = new Set()));
    set.add(subscriber);
    for (;;) {
      const batch = await this.events.after(this.dataSource.manager, tenantId, sent, 500);
      batch.forEach(deliver);
      if (batch.length < 500) break;
    }
    replaying = false;
    buffered.forEach(deliver);
    return () => {
      set.delete(subscriber);
      if (set.size === 0) {
        this.subscribers.delete(tenantId);
        this.cursor.delete(tenantId);
      }
    };
  }

  private wake(tenantId: string): void {
    if (!this.subscribers.has(tenantId)) return;
    if (this.reading.has(tenantId)) {
      this.again.add(tenantId);
      return;
    }
    const run = this.read(tenantId)
      .catch((error) => this.log.warn({ tenant: tenantId, err: (error as Error).message }, 'reading console events failed'))
      .finally(() => {
        this.reading.delete(tenantId);
        if (this.again.delete(tenantId)) this.wake(tenantId);
      });
    this.reading.set(tenantId, run);
  }

  private async read(tenantId: string): Promise<void> {
    for (;;) {
      const from = this.cursor.get(tenantId);
      if (from === undefined) return;
      const batch = await this.events.after(this.dataSource.manager, tenantId, from, 500);
      if (batch.length === 0) return;
      this.cursor.set(tenantId, batch[batch.length - 1].seq);
      for (const s of this.subscribers.get(tenantId) ?? []) for (const e of batch) s.send(e);
      if (batch.length < 500) return;
    }
  }
}
