import { DataSource, type DataSourceOptions } from 'typeorm';

export interface ServiceDataSourceOptions {
  /** The service's schema; also the prefix of its roles (`<schema>_app`, `<schema>_migrator`). */
  schema: string;
  url: string;
  entities: NonNullable<DataSourceOptions['entities']>;
  migrations?: DataSourceOptions['migrations'];
  applicationName?: string;
  poolSize?: number;
  /** Connect as the schema owner (migrations), so every object it creates has one owner. */
  asOwner?: boolean;
}

/**
 * One DataSource per service: its own schema (search_path too, so nothing lands in public), its own
 * migrations table, no synchronize ever. Migrations run from the migrate command, not at start-up.
 */
export function serviceDataSourceOptions(options: ServiceDataSourceOptions): DataSourceOptions {
  const startupOptions = [`-c search_path=${options.schema}`];
  if (options.asOwner) startupOptions.push(`-c role=${options.schema}_owner`);
  return {
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations ?? [],
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    applicationName: options.applicationName ?? options.schema,
    extra: { max: options.poolSize ?? 10, options: startupOptions.join(' '), connectionTimeoutMillis: 5000 },
  };
}

export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  return new DataSource(serviceDataSourceOptions(options));
}

/** Ready means the schema is at the code's version: no migration left to apply. */
export async function hasPendingMigrations(dataSource: DataSource): Promise<boolean> {
  return dataSource.showMigrations();
}
