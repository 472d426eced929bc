import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { counter } from '@wa/observability';
import { InjectEnv } from '@wa/service-kit';
import type { IngressEnv } from '../config/env';
import { RawWebhook } from '../raw-archive/raw-webhook.entity';
import { WebhookDedupe } from './webhook-dedupe.entity';

const HOUR = 60 * 60 * 1000;
const BATCH = 5000;

const pruned = counter('ingress_pruned_rows_total', 'Dedupe keys and archived raw webhooks deleted after their retention', ['table']);

/**
 * Forgets what has outlived its retention, in small batches so no delete holds long locks: dedupe
 * keys after `DEDUPE_RETENTION_DAYS` (Meta stops retrying after 7 days) and archived raw bodies
 * after `RAW_ARCHIVE_RETENTION_DAYS` (0 keeps them). Every normalizer replica runs it; the
 * deletes are idempotent.
 */
@Injectable()
export class RetentionPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionPruner.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    @InjectEnv() private readonly env: IngressEnv,
  ) {}

  onApplicationBootstrap(): void {
    // Normalizer replicas only: receivers run without the database.
    if (!this.env.INGRESS_CONSUMERS) return;
    this.timer = setInterval(() => void this.prune().catch((error) => this.logger.warn(`retention prune failed: ${error}`)), HOUR);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Returns how many rows each table lost. */
  async prune(): Promise<{ dedupeKeys: number; rawWebhooks: number }> {
    const dedupeKeys = await this.pruneTable(
      this.dataSource.getMetadata(WebhookDedupe).tablePath,
      'first_seen_at',
      this.env.DEDUPE_RETENTION_DAYS,
    );
    const rawWebhooks =
      this.env.RAW_ARCHIVE_RETENTION_DAYS > 0
        ? await this.pruneTable(this.dataSource.getMetadata(RawWebhook).tablePath, 'received_at', this.env.RAW_ARCHIVE_RETENTION_DAYS)
        : 0;
    return { dedupeKeys, rawWebhooks };
  }

  /** `column` is indexed in both tables, so each batch reads about what it deletes. */
  private async pruneTable(table: string, column: string, days: number): Promise<number> {
    let total = 0;
    for (;;) {
      const [{ n }]: { n: number }[] = await this.dataSource.query(
        `WITH gone AS (
           DELETE FROM ${table} WHERE ctid IN (
             SELECT ctid FROM ${table} WHERE ${column} < now() - make_interval(days => $1) LIMIT ${BATCH}
           ) RETURNING 1
         ) SELECT count(*)::int AS n FROM gone`,
        [days],
      );
      total += n;
      pruned.inc({ table }, n);
      if (n < BATCH) return total;
    }
  }
}
