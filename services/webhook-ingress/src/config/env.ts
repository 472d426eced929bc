import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, Matches, Max, Min } from 'class-validator';
import { withAuthEnv } from '@wa/auth';
import { BaseEnv, InvalidEnvironmentError } from '@wa/config';
import { runsConsumers } from '../receiver-role';

/** Tenant file used when none is given outside production: the two sandbox agencies. */
export const SANDBOX_TENANTS_FILE = 'config/tenants.sandbox.yaml';

/** The media API authenticates with `@wa/auth` (AUTH_* variables); the webhook with Meta's signature. */
export class IngressEnv extends withAuthEnv(BaseEnv) {
  /**
   * How long a webhook waits for Kafka to acknowledge its raw record before answering 503 so Meta
   * retries. Meta's own timeout is unpublished (guides say 3-5 s); 2.5 s keeps well inside it.
   */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(10000)
  WEBHOOK_DURABLE_TIMEOUT_MS = 2500;

  /**
   * Publishes a replica may have waiting for Kafka at once. Beyond it (Kafka gone while Meta keeps
   * retrying) new webhooks get 503 at once instead of piling up in memory.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WEBHOOK_MAX_PENDING_PUBLISHES = 20000;

  /**
   * acks=all produce requests a replica keeps in flight for webhooks. 1 (the default) makes the
   * largest batches and the fewest requests, which a CPU-bound receiver needs most (see
   * durable-publisher.ts); more shortens the wait behind a slow broker at a cost in CPU.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(16)
  WEBHOOK_KAFKA_IN_FLIGHT = 1;

  /**
   * Answer to a correctly signed body that is not JSON or not a WhatsApp payload, once it is kept
   * on the quarantine topic. 200 (the default) stops Meta's redeliveries: a 4xx makes Meta retry
   * the same body for days, each copy quarantined again under the same ce_id. 400 tells Meta's
   * dashboard and the sender it was refused, at that cost.
   */
  @Type(() => Number)
  @IsIn([200, 400], { message: 'WEBHOOK_BAD_CONTENT_STATUS must be 200 or 400' })
  WEBHOOK_BAD_CONTENT_STATUS: 200 | 400 = 200;

  /** Graph API base for media downloads: https://graph.facebook.com, or the sandbox (same name as the other services). */
  @Matches(/^https?:\/\/[^\s/]+(:\d+)?(\/[^\s]*)?$/, { message: 'GRAPH_BASE_URL must be an http(s) base URL' })
  GRAPH_BASE_URL = 'https://graph.facebook.com';

  /** Largest media file the fetch path stores (WhatsApp documents go up to 100 MB). */
  @Type(() => Number)
  @IsInt()
  @Min(1024)
  MEDIA_MAX_BYTES = 100 * 1024 * 1024;

  /** Media downloads and reads in flight per tenant on one replica; more are refused with 429 (media/transfer-gate.ts). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  MEDIA_TRANSFERS_PER_TENANT = 4;

  /**
   * Whether this replica also runs the raw topic's consumers (archive + normalizer). `false` makes a
   * pure webhook receiver, so receivers can scale with Meta's request rate and normalizers with
   * consumer lag, each in its own Deployment.
   */
  @Transform(({ value }) => runsConsumers(value as string | boolean | undefined))
  @IsBoolean({ message: 'INGRESS_CONSUMERS must be true or false' })
  INGRESS_CONSUMERS = true;

  /** Dedupe keys are kept this long; Meta retries for up to 7 days, so keep comfortably more. */
  @Type(() => Number)
  @IsInt()
  @Min(8)
  DEDUPE_RETENTION_DAYS = 30;

  /**
   * Archived raw bodies (audit, and replay when the parser improves) are kept this long; 0 keeps
   * them forever. They are the largest rows the platform stores: one per webhook, body included.
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  RAW_ARCHIVE_RETENTION_DAYS = 90;
}

/**
 * TENANTS_FILE (apps with their secrets and verify tokens, tenants with their phone number and WABA
 * ids) is required in production; development and tests fall back to the sandbox tenants.
 */
export function tenantsFileOf(env: IngressEnv): string {
  if (env.TENANTS_FILE) return env.TENANTS_FILE;
  if (env.NODE_ENV === 'production') {
    throw new InvalidEnvironmentError(['TENANTS_FILE (missing): the tenants YAML is required in production']);
  }
  return SANDBOX_TENANTS_FILE;
}
