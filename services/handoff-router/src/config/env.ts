import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { withAuthEnv } from '@wa/auth';
import { BaseEnv, InvalidEnvironmentError } from '@wa/config';

/** Tenant file used when none is given outside production: the two sandbox agencies. */
export const SANDBOX_TENANTS_FILE = 'config/tenants.sandbox.yaml';
/** Sample departments, agents and canned responses of the sandbox tenants (AUTH_MODE=sandbox only). */
export const SANDBOX_SAMPLE_FILE = 'services/handoff-router/sample/handoff.sandbox.yaml';

const bool = ({ value }: { value: unknown }) =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;

/** The router's clocks and switches; tests shorten the clocks through the same variables. */
export class HandoffEnv extends withAuthEnv(BaseEnv) {
  /** No heartbeat for this long: the agent shows as away (gets no new conversations). */
  @Type(() => Number) @IsInt() @Min(1000) HANDOFF_AWAY_AFTER_MS = 45_000;

  /** No heartbeat for this long: offline, and their conversations go back to the queue. */
  @Type(() => Number) @IsInt() @Min(1000) HANDOFF_OFFLINE_GRACE_MS = 180_000;

  /** How often the sweeper looks at presence, SLAs, deflection deadlines, surveys and retention. */
  @Type(() => Number) @IsInt() @Min(50) HANDOFF_SWEEP_INTERVAL_MS = 1000;

  @Transform(bool) @IsBoolean() HANDOFF_SWEEP_ENABLED = true;

  /** A deflection not delivered within this time answers `not_reachable`. */
  @Type(() => Number) @IsInt() @Min(500) @Max(120_000) HANDOFF_DEFLECTION_TIMEOUT_MS = 20_000;

  /** A deflected caller's reply joins the queue if it comes within this time of the offer. */
  @Type(() => Number) @IsInt() @Min(60_000) HANDOFF_DEFLECTION_REPLY_WINDOW_MS = 24 * 60 * 60 * 1000;

  /** At most one "your place in the queue" update per conversation per this interval. */
  @Type(() => Number) @IsInt() @Min(1000) HANDOFF_POSITION_UPDATE_MS = 120_000;

  /** An unanswered satisfaction survey ends (the bot resumes) after this. */
  @Type(() => Number) @IsInt() @Min(1000) HANDOFF_SURVEY_TIMEOUT_MS = 600_000;

  /** Sample departments, agents and canned responses loaded at start (sandbox auth mode only). */
  @IsOptional() @IsString() HANDOFF_SAMPLE_FILE?: string;

  /** Heartbeat comments on idle event streams keep proxies from closing them. */
  @Type(() => Number) @IsInt() @Min(1000) HANDOFF_STREAM_KEEPALIVE_MS = 15_000;
}

export function tenantsFileOf(env: HandoffEnv): string {
  if (env.TENANTS_FILE) return env.TENANTS_FILE;
  if (env.NODE_ENV === 'production')
    throw new InvalidEnvironmentError(['TENANTS_FILE (missing): the tenants YAML is required in production']);
  return SANDBOX_TENANTS_FILE;
}
