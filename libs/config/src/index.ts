import 'reflect-metadata';
import { plainToInstance, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync, type ValidationError } from 'class-validator';

/** Variables every service reads. A service's own env class extends this one. */
export class BaseEnv {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT!: number;

  /** The service's app role: DML on its own schema only. */
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL!: string;

  /** Comma-separated host:port list. */
  @Matches(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, { message: 'KAFKA_BROKERS must be host:port[,host:port...]' })
  KAFKA_BROKERS = '127.0.0.1:9092';

  /** Namespaces every topic (tests, shared clusters). Empty in production. */
  @IsOptional()
  @Matches(/^[a-z0-9._-]*$/, { message: 'KAFKA_TOPIC_PREFIX may hold only a-z 0-9 . _ -' })
  KAFKA_TOPIC_PREFIX = '';

  /** Replication factor for topics a service creates itself (its retry and DLQ topics). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  KAFKA_REPLICATION_FACTOR = 1;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Within the Kubernetes termination grace period, minus the preStop sleep. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  SHUTDOWN_TIMEOUT_MS = 20000;

  @IsOptional()
  @IsString()
  TENANTS_FILE?: string;

  /**
   * How long published outbox rows are kept before the relay deletes them; 0 keeps them forever.
   * A week by default: past Meta's retry window and the usual DLQ replays, since a deterministic
   * ce_id is refused as a repeat (the outbox's unique eventId) only while its row is kept.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  OUTBOX_KEEP_PUBLISHED_HOURS = 168;
}

export class InvalidEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment: ${problems.join('; ')}`);
    this.name = 'InvalidEnvironmentError';
  }
}

/** Shows what was given so the operator can fix it, minus anything secret (names or URL passwords). */
function shown(name: string, given: string | undefined): string {
  if (given === undefined) return 'missing';
  if (/SECRET|TOKEN|PASSWORD|KEY/.test(name)) return 'set (hidden)';
  return JSON.stringify(given.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@'));
}

function describe(errors: ValidationError[], source: Record<string, string | undefined>): string[] {
  return errors.map((e) => {
    const given = shown(e.property, source[e.property]);
    return `${e.property} (${given}): ${Object.values(e.constraints ?? {}).join(', ')}`;
  });
}

/** Reads and validates the environment once at start-up; throws naming every bad variable. */
export function loadEnv<T extends BaseEnv>(cls: new () => T, source: Record<string, string | undefined> = process.env): T {
  const env = plainToInstance(cls, { ...source }, { exposeDefaultValues: true, enableImplicitConversion: false });
  const errors = validateSync(env, { whitelist: false, skipMissingProperties: false });
  if (errors.length) throw new InvalidEnvironmentError(describe(errors, source));
  return env;
}
