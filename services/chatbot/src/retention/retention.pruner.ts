import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PeriodicPruner } from '@wa/persistence';
import { TenantRegistry } from '@wa/tenancy';
import { chatbotRetentionRules } from './retention.rules';

const HOUR = 60 * 60 * 1000;

/**
 * The chatbot's retention pass, hourly (retention.rules.ts says what goes when). Every replica runs
 * the timer; an advisory lock lets one of them prune at a time.
 */
@Injectable()
export class RetentionPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionPruner.name);
  readonly pruner: PeriodicPruner;

  constructor(dataSource: DataSource, tenants: TenantRegistry) {
    const registry = tenants;
    this.pruner = new PeriodicPruner(
      dataSource,
      'chatbot',
      () => chatbotRetentionRules(registry),
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
