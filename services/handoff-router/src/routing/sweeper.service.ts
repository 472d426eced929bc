import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InjectEnv } from '@wa/service-kit';
import type { HandoffEnv } from '../config/env';
import { slaDecision } from '../rules/sla';
import { AgentRepository } from '../store/agents.repository';
import { ConsoleEventRepository } from '../store/console-events.repository';
import { ConversationRepository } from '../store/conversations.repository';
import { DeflectionRepository } from '../store/deflections.repository';
import { SettingsRepository } from '../store/settings.repository';
import { DeflectionService } from './deflection.service';
import { ROUTER, RouterService } from './router.service';

/**
 * The clock's work, safe on every replica (rows claimed with FOR UPDATE SKIP LOCKED): presence
 * from stopped heartbeats (away, then offline with the agent's conversations back in the queue),
 * SLA alerts and widening, deflections with no delivery in time, unanswered surveys, retention,
 * and an assignment pass per tenant.
 */
@Injectable()
export class SweeperService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Sweeper');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly router: RouterService,
    private readonly deflection: DeflectionService,
    private readonly agents: AgentRepository,
    private readonly conversations: ConversationRepository,
    private readonly deflections: DeflectionRepository,
    private readonly settings: SettingsRepository,
    private readonly events: ConsoleEventRepository,
    @InjectEnv() private readonly env: HandoffEnv,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.env.HANDOFF_SWEEP_ENABLED) return;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.sweep()
        .catch((error) => this.log.error({ err: (error as Error).message }, 'sweep failed; will retry'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.env.HANDOFF_SWEEP_INTERVAL_MS);
        });
    };
    this.timer = setTimeout(tick, this.env.HANDOFF_SWEEP_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  async sweep(now = new Date()): Promise<void> {
    const touched = new Set<string>();
    await this.presence(now, touched);
    await this.sla(now, touched);
    await this.deflectionDeadlines(now);
    await this.surveys(now, touched);
    await this.retention(now);
    const tenants = await this.conversations.tenants(this.dataSource.manager);
    for (const t of new Set([...tenants, ...touched])) await this.router.drain(t, now);
  }

  private async presence(now: Date, touched: Set<string>): Promise<void> {
    // Away: no heartbeat for a while; no new conversations, keeps the ones it has.
    await this.dataSource.query(
      `WITH changed AS (UPDATE handoff.agent SET presence = 'away' WHERE presence = 'online' AND last_seen_at < $1 RETURNING tenant_id, id)
       SELECT 1 FROM changed`,
      [new Date(now.getTime() - this.env.HANDOFF_AWAY_AFTER_MS)],
    );
    const quietSince = new Date(now.getTime() - this.env.HANDOFF_OFFLINE_GRACE_MS);
    for (;;) {
      const done = await this.dataSource.transaction(async (m) => {
        const agent = await this.agents.staleOne(m, quietSince, ['online', 'away']);
        if (!agent) return true;
        await this.agents.setPresence(m, agent.tenantId, agent.id, 'offline');
        for (const row of await this.conversations.assignedTo(m, agent.tenantId, agent.id))
          await this.router.requeue(m, row, 'agent_offline', ROUTER, now);
        await this.events.append(m, agent.tenantId, [{ type: 'agent.presence', data: { agentId: agent.id, presence: 'offline' } }]);
        touched.add(agent.tenantId);
        return false;
      });
      if (done) return;
    }
  }

  private async sla(now: Date, touched: Set<string>): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      for (const row of await this.conversations.slaDue(m, now)) {
        const decision = slaDecision(
          row,
          { slaSeconds: row.slaSeconds, widenLanguages: row.widenLanguagesCfg, widenDepartments: row.widenDepartmentsCfg },
          now,
        );
        if (!decision) continue;
        await this.conversations.widen(m, row.tenantId, row.id, decision.widenLanguages, decision.widenDepartments, now);
        await this.events.append(m, row.tenantId, [
          {
            type: 'sla.breached',
            conversationId: row.id,
            data: {
              id: row.id,
              department: row.department,
              language: row.language,
              queuedAt: row.queuedAt,
              widenLanguages: decision.widenLanguages,
              widenDepartments: decision.widenDepartments,
            },
          },
        ]);
        touched.add(row.tenantId);
      }
    });
  }

  private async deflectionDeadlines(now: Date): Promise<void> {
    for (;;) {
      const done = await this.dataSource.transaction(async (m) => {
        const due = await this.deflections.dueOne(m, now);
        if (!due) return true;
        await this.deflection.decide(
          m,
          due,
          { outcome: 'not_reachable', detail: `no delivery within ${this.env.HANDOFF_DEFLECTION_TIMEOUT_MS / 1000} s` },
          now,
        );
        return false;
      });
      if (done) return;
    }
  }

  private async surveys(now: Date, touched: Set<string>): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      for (const row of await this.conversations.surveysDue(m, new Date(now.getTime() - this.env.HANDOFF_SURVEY_TIMEOUT_MS))) {
        await this.router.finish(m, row, 'survey_timeout', ROUTER, now);
        touched.add(row.tenantId);
      }
    });
  }

  /** Transcripts of closed conversations past the tenant's retention are deleted, with their events. */
  async retention(now: Date): Promise<number> {
    let purged = 0;
    const tenants = await this.conversations.tenants(this.dataSource.manager);
    for (const tenant of tenants) {
      const { retentionDays } = await this.settings.get(this.dataSource.manager, tenant);
      const before = new Date(now.getTime() - retentionDays * 24 * 3600 * 1000);
      purged += await this.dataSource.transaction(async (m) => {
        const n = await this.conversations.purge(m, tenant, before);
        await this.events.purgeBefore(m, tenant, before);
        return n;
      });
    }
    return purged;
  }
}
