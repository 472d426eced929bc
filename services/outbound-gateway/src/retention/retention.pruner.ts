import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PeriodicPruner } from '@wa/persistence';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { gatewayRetentionRules } from './retention.rules';

const HOUR = 60 * 60 * 1000;

/**
 * The gateway's retention pass, hourly (retention.rules.ts says what goes when). Every replica runs
 * the timer; an advisory lock lets one of them prune at a time.
 */
@Injectable()
export class RetentionPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionPruner.name);
  readonly pruner: PeriodicPruner;

  constructor(dataSource: DataSource, tenants: TenantDirectory) {
    const registry = tenants.registry;
    this.pruner = new PeriodicPruner(
      dataSource,
      'gateway',
      () => gatewayRetentionRules(registry),
      () => registry.tenants.map((t) => t.id),
      (message) => this.logger.warn(message),
    );
  }

  onApplicationBootstrap(): void {
    this.pruner.start(HOUR);
  }

  onApplicationShutdown(): void {
    this.pruner.stop();
  }
}
