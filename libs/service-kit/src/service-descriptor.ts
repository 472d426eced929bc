import type { RouteInfo } from '@nestjs/common/interfaces';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { BaseEnv } from '@wa/config';

export type DatabaseMode = 'at-start' | 'on-demand';

/** Everything that makes one service different from another, in one object. */
export interface ServiceDescriptor<E extends BaseEnv = BaseEnv> {
  /** Kebab-case service name: logs, metrics, traces, Kafka client id and CloudEvents source. */
  name: string;
  /** The Postgres schema it owns. */
  schema: string;
  /** Its consumer group; retry and DLQ topics are `<group>.retry` / `<group>.dlq`. */
  consumerGroup: string;
  envClass: new () => E;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  entities: (new (...args: any[]) => unknown)[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  migrations: (new (...args: any[]) => unknown)[];
  /** Largest request body accepted, bytes. */
  bodyLimit?: number;
  /**
   * Hot routes left out of the per-request HTTP logger (its child logger and serializers cost more
   * than the webhook's own work); the service logs their failures itself.
   */
  selfLoggedRoutes?: RouteInfo[];
  /**
   * Whether the per-request HTTP logger runs at all (default: yes). nestjs-pino keeps each
   * request's logger in AsyncLocalStorage, which in Node 20 turns on promise hooks for the whole
   * process; a replica that must not pay for them (the webhook receivers) turns it off.
   */
  requestLogger?(env: E): boolean;
  /**
   * When this replica connects to PostgreSQL. `at-start` (the default): it does not start without
   * the database, runs the outbox relay, and is ready only with the database reachable and its
   * migrations applied. `on-demand`: it starts and is ready with Kafka alone, runs no outbox relay,
   * and its DataSource connects on first use (`connectedDataSource`); for a role whose hot path
   * never touches the database (the webhook receivers), so a database outage or migration cannot
   * take it down.
   */
  database?(env: E): DatabaseMode;
  /** Summary for the OpenAPI document at /docs. */
  description: string;
  /** Paths served by raw Fastify routes (which Nest's scanner cannot see), added to the document. */
  openApiPaths?: OpenAPIObject['paths'];
}
