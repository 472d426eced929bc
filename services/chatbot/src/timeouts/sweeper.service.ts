import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isWindowOpen } from '@wa/conversation';
import { counter } from '@wa/observability';
import { InjectEnv } from '@wa/service-kit';
import type { ChatbotEnv } from '../config/env';
import { TurnService } from '../conversation/turn.service';
import { ProfileRepository } from '../store/profiles.repository';
import { SessionRepository } from '../store/sessions.repository';

const swept = counter('chatbot_swept_sessions_total', 'Sessions the sweeper handled, by outcome', ['outcome']);

/**
 * Runs `timeout` turns for questions nobody answered in time and ends idle sessions. Each session
 * is claimed in its own transaction with FOR UPDATE SKIP LOCKED, so replicas sweep side by side
 * without touching the same session, and a citizen's message and the sweeper serialize on the row.
 * Nothing is sent once the 24-hour window has closed: the session just ends.
 */
@Injectable()
export class SweeperService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Sweeper');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly sessions: SessionRepository,
    private readonly profiles: ProfileRepository,
    private readonly turns: TurnService,
    @InjectEnv() private readonly env: ChatbotEnv,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.env.CHATBOT_SWEEP_ENABLED) return;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.sweep()
        .catch((error) => this.log.error({ err: (error as Error).message }, 'sweep failed; will retry'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.env.CHATBOT_SWEEP_INTERVAL_MS);
        });
    };
    this.timer = setTimeout(tick, this.env.CHATBOT_SWEEP_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Handles every due session (one transaction each); returns how many. */
  async sweep(now: () => Date = () => new Date(), max = 500): Promise<number> {
    let n = 0;
    while (n < max && (await this.sweepOne(now()))) n++;
    return n;
  }

  /** One due session, or false when none is due. */
  async sweepOne(now: Date): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = await this.sessions.claimDue(manager, now, 1);
      if (!row) return false;
      const profile = await this.profiles.get(manager, row.tenantId, row.citizenKey);
      const timedOut = row.timeoutAt !== null && row.timeoutAt.getTime() <= now.getTime() && row.expiresAt.getTime() > now.getTime();
      if (!timedOut || !profile) {
        await this.sessions.delete(manager, row.tenantId, row.citizenKey);
        swept.inc({ outcome: 'expired' });
        return true;
      }
      if (!isWindowOpen(profile.lastInboundAt, now)) {
        await this.sessions.delete(manager, row.tenantId, row.citizenKey);
        swept.inc({ outcome: 'window-closed' });
        return true;
      }
      await this.turns.onTimeout(manager, row, profile, now);
      swept.inc({ outcome: 'timeout' });
      return true;
    });
  }
}
