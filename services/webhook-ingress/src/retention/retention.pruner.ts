import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PeriodicPruner } from '@wa/persistence';
import { InjectEnv } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import type { IngressEnv } from '../config/env';
import { ingressRetentionRules } from './retention.rules';

const HOUR = 60 * 60 * 1000;

/**
 * The ingress's retention pass, hourly (retention.rules.ts says what goes when). Every replica runs
 * the timer; an advisory lock lets one of them prune at a time.
 */
@Injectable()
export class RetentionPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionPruner.name);
  readonly pruner: PeriodicPruner;

  constructor(
    dataSource: DataSource,
    tenants: TenantRegistry,
    @InjectEnv() private readonly env: IngressEnv,
  ) {
    const registry = tenants;
    this.pruner = new PeriodicPruner(
      dataSource,
      'ingress',
      () => ingressRetentionRules(registry),
      () => registry.tenants.map((t) => t.id),
      (message) => this.logger.warn(message),
    );
  }

  onApplicationBootstrap(): void {
    // Normalizer replicas only: receivers run without the database.
    if (!this.env.INGRESS_CONSUMERS) return;
    this.pruner.start(HOUR);
  }

  onApplicationShutdown(): void {
    this.pruner.stop();
  }
}
