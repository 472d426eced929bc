import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsNumber, Matches, Max, Min } from 'class-validator';
import { withAuthEnv } from '@wa/auth';
import { BaseEnv } from '@wa/config';

const toBool = ({ value }: { value: unknown }) => (typeof value === 'string' ? value === 'true' || value === '1' : value);

/**
 * The gateway's knobs. Defaults are production values from the Cloud API reference (§6.5, §7);
 * tests shorten the clocks (pair interval, backoff, grace periods) through the same variables.
 * TENANTS_FILE (from BaseEnv) is required here; the tenant directory refuses to start without it.
 * The HTTP API authenticates with `@wa/auth` (AUTH_* variables).
 */
export class GatewayEnv extends withAuthEnv(BaseEnv) {
  /** https://graph.facebook.com in production; the sandbox locally and in tests. */
  @Matches(/^https?:\/\/[^\s/]+(:\d+)?(\/[^\s]*)?$/, { message: 'GRAPH_BASE_URL must be an http(s) base URL' })
  GRAPH_BASE_URL!: string;

  /** Fraction of each number's throughput tier the gateway uses (Meta counts inbound too). */
  @Type(() => Number) @IsNumber() @Min(0.1) @Max(1) RATE_HEADROOM = 0.97;

  /**
   * Messages per second always left unused on every number, on top of the headroom: jitter between
   * our clock and Meta's, and inbound traffic, weigh most on small tiers (2 of 80 vs 2 of 1,000).
   */
  @Type(() => Number) @IsNumber() @Min(0) RATE_RESERVE_PER_SECOND = 2;

  /** Length of a rate-budget time slot; the per-second budget is spread over the slots. */
  @Type(() => Number) @IsInt() @Min(20) @Max(1000) RATE_SLOT_MS = 100;

  /** Pair limit: at least this long between two messages to the same citizen (Meta: ~6 s). */
  @Type(() => Number) @IsInt() @Min(0) PAIR_INTERVAL_MS = 6000;

  /**
   * Messages a citizen may receive back to back before the interval applies. Meta tolerates bursts
   * (up to 45 in 6 s, then the time is paid back); a chatbot's turn is a few messages (an answer,
   * then the menu), which must arrive together rather than 6 s apart.
   */
  @Type(() => Number) @IsInt() @Min(1) @Max(45) PAIR_BURST = 4;

  /** One Cloud API call; after it the outcome is unknown (uncertain). */
  @Type(() => Number) @IsInt() @Min(500) SEND_TIMEOUT_MS = 10000;

  /** How long an uncertain send waits for a status webhook naming it before it is sent again. */
  @Type(() => Number) @IsInt() @Min(0) UNCERTAIN_GRACE_MS = 120000;

  /** First backoff for transient errors; doubles per try, with jitter, up to RETRY_MAX_MS. */
  @Type(() => Number) @IsInt() @Min(1) RETRY_BASE_MS = 2000;
  @Type(() => Number) @IsInt() @Min(1) RETRY_MAX_MS = 300000;
  /** Transient-error tries before a request fails with retries-exhausted. */
  @Type(() => Number) @IsInt() @Min(1) MAX_TRANSIENT_RETRIES = 6;

  /** 130429: first backoff (then doubling up to a minute), and how many before giving up. */
  @Type(() => Number) @IsInt() @Min(1) THROUGHPUT_BACKOFF_MS = 1000;
  @Type(() => Number) @IsInt() @Min(1) MAX_THROUGHPUT_RETRIES = 20;

  /** 131056: the pair backoff is PAIR_BACKOFF_UNIT_MS · 4^n (Meta: 1 s, 4 s, 16 s …). */
  @Type(() => Number) @IsInt() @Min(1) PAIR_BACKOFF_UNIT_MS = 1000;
  @Type(() => Number) @IsInt() @Min(1) MAX_PAIR_RETRIES = 6;

  /** A reply may race the inbound message that opened the window: wait this long before calling it closed. */
  @Type(() => Number) @IsInt() @Min(0) WINDOW_GRACE_MS = 10000;

  /** A template the catalog does not know yet (the registry just approved it): wait this long. */
  @Type(() => Number) @IsInt() @Min(0) CATALOG_GRACE_MS = 10000;

  /** Tenant or number holds (bad token, account blocked): probe again after this long. */
  @Type(() => Number) @IsInt() @Min(1000) AUTH_HOLD_MS = 900000;

  /** Re-upload an agency file this long before its Meta media id expires (ids live 30 days). */
  @Type(() => Number) @IsInt() @Min(60000) MEDIA_REFRESH_BEFORE_MS = 3 * 86400000;

  /** Largest agency file accepted by POST /v1/media (Meta's document limit is 100 MB). */
  @Type(() => Number) @IsInt() @Min(1024) MEDIA_MAX_BYTES = 100 * 1024 * 1024;

  /** Cloud API calls in flight per replica before the dispatcher stops claiming. */
  @Type(() => Number) @IsInt() @Min(1) MAX_IN_FLIGHT = 2000;

  /** A replica whose heartbeat is older than this is dead: its in-flight sends become uncertain. */
  @Type(() => Number) @IsInt() @Min(1000) REPLICA_DEAD_AFTER_MS = 5000;

  /**
   * Longest pause between polls of an idle number (retries coming due, other replicas' requests);
   * polling starts fast after activity and backs off to this. New requests wake the loop at once.
   */
  @Type(() => Number) @IsInt() @Min(10) IDLE_POLL_MS = 1000;

  /** Run the dispatcher in this process (false: consume and serve the API only). */
  @Transform(toBool) @IsBoolean() DISPATCHER_ENABLED = true;
}
