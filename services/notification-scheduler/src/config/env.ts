import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { withAuthEnv } from '@wa/auth';
import { BaseEnv, InvalidEnvironmentError } from '@wa/config';

/** Tenant file used when none is given outside production: the two sandbox agencies. */
export const SANDBOX_TENANTS_FILE = 'config/tenants.sandbox.yaml';
/** Scheduling policies of the sandbox tenants, used when SCHEDULER_POLICIES_FILE is not set. */
export const SANDBOX_POLICIES_FILE = 'services/notification-scheduler/config/policies.sandbox.yaml';

export class SchedulerEnv extends withAuthEnv(BaseEnv) {
  /** How often the due sweep looks for notices when the last look found none. */
  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(60000)
  SCHEDULER_SWEEP_INTERVAL_MS = 1000;

  /** Notices claimed per sweep transaction. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  SCHEDULER_SWEEP_BATCH = 500;

  /** Agency events applied per planning transaction (multi-row statements). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  SCHEDULER_PLANNING_BATCH = 500;

  /** Off: plan only (a replica dedicated to intake, or a benchmark phase). */
  @Transform(({ value }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value))
  @IsBoolean({ message: 'SCHEDULER_SWEEP_ENABLED must be true or false' })
  SCHEDULER_SWEEP_ENABLED = true;

  /** YAML with per-tenant scheduling policies (defaults the admin API can override). */
  @IsOptional()
  @IsString()
  SCHEDULER_POLICIES_FILE?: string;
}

export function tenantsFileOf(env: SchedulerEnv): string {
  if (env.TENANTS_FILE) return env.TENANTS_FILE;
  if (env.NODE_ENV === 'production') {
    throw new InvalidEnvironmentError(['TENANTS_FILE (missing): the tenants YAML is required in production']);
  }
  return SANDBOX_TENANTS_FILE;
}
