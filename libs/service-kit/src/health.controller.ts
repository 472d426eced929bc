import { Controller, Get, Inject, SetMetadata } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { EventProducer, type Kafka } from '@wa/kafka';
import { hasPendingMigrations } from '@wa/persistence';
import type { DatabaseMode } from './service-descriptor';
import { DATABASE_MODE, KAFKA_CLIENT, PUBLIC_ROUTE } from './tokens';

/**
 * Liveness is the event loop only: a broker or database blip must not restart the fleet.
 * Readiness needs Postgres, Kafka and an up-to-date schema; Kafka alone on a replica that connects
 * to the database on demand (ServiceDescriptor.database).
 */
@ApiExcludeController()
@SetMetadata(PUBLIC_ROUTE, 'kubelet probes')
@Controller('health')
export class HealthController {
  private migrationsCurrent = false;
  private kafkaCheckedAt = 0;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    private readonly producer: EventProducer,
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(DATABASE_MODE) private readonly databaseMode: DatabaseMode,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    if (this.databaseMode === 'on-demand') return this.health.check([() => this.kafkaReachable()]);
    return this.health.check([() => this.postgres(), () => this.migrations(), () => this.kafkaReachable()]);
  }

  private async postgres() {
    const indicator = this.indicators.check('postgres');
    try {
      await this.dataSource.query('SELECT 1');
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }

  private async migrations() {
    const indicator = this.indicators.check('migrations');
    try {
      if (!this.migrationsCurrent) this.migrationsCurrent = !(await hasPendingMigrations(this.dataSource));
      return this.migrationsCurrent ? indicator.up() : indicator.down({ message: 'pending migrations: run the migrate command' });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }

  private async kafkaReachable() {
    const indicator = this.indicators.check('kafka');
    if (!this.producer.isConnected) return indicator.down({ message: 'producer not connected' });
    // Metadata round-trips are cheap but not free; probes come every few seconds.
    if (Date.now() - this.kafkaCheckedAt < 5000) return indicator.up();
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      this.kafkaCheckedAt = Date.now();
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
