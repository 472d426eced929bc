import { Type } from 'class-transformer';
import { IsIn, IsInt, Matches, Max, Min } from 'class-validator';
import { withAuthEnv } from '@wa/auth';
import { BaseEnv } from '@wa/config';

/**
 * The registry's knobs. Defaults are production values from the Cloud API reference (§0, §6.5, §8);
 * tests shorten the clocks through the same variables. AUTH_* come from @wa/auth. TENANTS_FILE
 * (from BaseEnv) is required here: the tenant provider refuses to start without it.
 */
export class TemplatesEnv extends withAuthEnv(BaseEnv) {
  /** https://graph.facebook.com in production; the Cloud API sandbox locally and in tests. */
  @Matches(/^https?:\/\/[^\s/]+(:\d+)?(\/[^\s]*)?$/, { message: 'GRAPH_BASE_URL must be an http(s) base URL' })
  GRAPH_BASE_URL!: string;

  /**
   * Management API calls per WABA per rolling hour this service allows itself. Meta allows 200
   * per app per WABA (5,000 for active WABAs); the rest is headroom for other callers.
   */
  @Type(() => Number) @IsInt() @Min(1) @Max(5000) TEMPLATES_MGMT_CALLS_PER_HOUR = 150;

  /** Template creations per WABA per rolling hour (Meta: 100). */
  @Type(() => Number) @IsInt() @Min(1) @Max(100) TEMPLATES_CREATES_PER_HOUR = 100;

  /** How often the submitter looks for queued translations. */
  @Type(() => Number) @IsInt() @Min(50) TEMPLATES_SUBMIT_INTERVAL_MS = 2000;

  /** First retry delay after a transient Meta failure; doubles per attempt up to an hour. */
  @Type(() => Number) @IsInt() @Min(10) TEMPLATES_RETRY_BASE_MS = 5000;

  /** Transient failures before a submission is marked failed (visible in the API). */
  @Type(() => Number) @IsInt() @Min(1) TEMPLATES_MAX_SUBMIT_ATTEMPTS = 12;

  /** Templates per page when importing from Meta's list API (Meta's maximum is 100). */
  @Type(() => Number) @IsInt() @Min(1) @Max(100) TEMPLATES_IMPORT_PAGE_SIZE = 100;

  /** One management API call. */
  @Type(() => Number) @IsInt() @Min(500) TEMPLATES_META_TIMEOUT_MS = 15000;

  /**
   * The starter catalog (services/template-registry/starter): `auto` loads it for tenants whose
   * config says `mode: sandbox`, `all` for every tenant, `off` never. Loading is idempotent.
   */
  @IsIn(['auto', 'all', 'off']) TEMPLATES_STARTER: 'auto' | 'all' | 'off' = 'auto';
}
