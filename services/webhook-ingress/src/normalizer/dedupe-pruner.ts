import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InjectEnv } from '@wa/service-kit';
import type { IngressEnv } from '../config/env';
import { WebhookDedupe } from './webhook-dedupe.entity';

const HOUR = 60 * 60 * 1000;

/**
 * Forgets dedupe keys older than the retention (Meta stops retrying after 7 days), in small
 * batches so the delete never holds long locks. Every replica may run it; the deletes are idempotent.
 */
@Injectable()
export class DedupePruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DedupePruner.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    @InjectEnv() private readonly env: IngressEnv,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune().catch((error) => this.logger.warn(`dedupe prune failed: ${error}`)), HOUR);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Returns how many keys were removed. */
  async prune(): Promise<number> {
    const table = this.dataSource.getMetadata(WebhookDedupe).tablePath;
    let total = 0;
    for (;;) {
      const [{ n }]: { n: number }[] = await this.dataSource.query(
        `WITH gone AS (
           DELETE FROM ${table} WHERE ctid IN (
             SELECT ctid FROM ${table} WHERE first_seen_at < now() - make_interval(days => $1) LIMIT 5000
           ) RETURNING 1
         ) SELECT count(*)::int AS n FROM gone`,
        [this.env.DEDUPE_RETENTION_DAYS],
      );
      total += n;
      if (n < 5000) return total;
    }
  }
}
