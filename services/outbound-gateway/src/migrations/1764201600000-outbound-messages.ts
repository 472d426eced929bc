import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The gateway's state: every send request with its lifecycle, the status webhooks joined to it,
 * the shared rate budget, pair pacing, the read models it decides with (window per business
 * number, consent, template catalog), holds, replica liveness and uploaded agency files.
 */
export class OutboundMessages1764201600000 implements MigrationInterface {
  name = 'OutboundMessages1764201600000';

  async up(q: QueryRunner): Promise<void> {
    // The customer service window is between a citizen and one business number, not the tenant.
    // Rows recorded before this migration keep phone_number_id '' and count for any number.
    await q.query(`ALTER TABLE "gateway"."contact_window" ADD COLUMN "phone_number_id" text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE "gateway"."contact_window" DROP CONSTRAINT "contact_window_pkey"`);
    await q.query(`ALTER TABLE "gateway"."contact_window" ADD PRIMARY KEY ("tenant_id", "wa_id", "phone_number_id")`);

    await q.query(`
      CREATE TABLE "gateway"."outbound_message" (
        "request_id" uuid PRIMARY KEY,
        "seq" bigserial NOT NULL,
        "tenant_id" text NOT NULL,
        "phone_number_id" text NOT NULL,
        "recipient" text NOT NULL,
        "lane" text NOT NULL,
        "kind" text NOT NULL,
        "priority" smallint NOT NULL,
        "request" jsonb NOT NULL,
        "state" text NOT NULL CHECK ("state" IN ('queued', 'sending', 'uncertain', 'accepted', 'failed')),
        "due_at" timestamptz NOT NULL DEFAULT now(),
        "attempts" int NOT NULL DEFAULT 0,
        "transient_retries" int NOT NULL DEFAULT 0,
        "throughput_retries" int NOT NULL DEFAULT 0,
        "pair_retries" int NOT NULL DEFAULT 0,
        "window_retries" int NOT NULL DEFAULT 0,
        "force_fallback" boolean NOT NULL DEFAULT false,
        "claimed_by" text,
        "lease_until" timestamptz,
        "uncertain_since" timestamptz,
        "wamid" text UNIQUE,
        "message_status" text,
        "sent_template" text,
        "used_fallback" boolean NOT NULL DEFAULT false,
        "reason" text,
        "detail" text,
        "error" jsonb,
        "delivery_status" text,
        "delivery_status_at" timestamptz,
        "duplicate_wamids" text[],
        "trace" jsonb,
        "events" jsonb NOT NULL DEFAULT '[]',
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "first_sent_at" timestamptz,
        "decided_at" timestamptz,
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    // The dispatcher's scan: per number, replies first, then arrival order.
    await q.query(
      `CREATE INDEX "outbound_message_ready_idx" ON "gateway"."outbound_message" ("phone_number_id", "priority", "seq") WHERE "state" = 'queued'`,
    );
    // Head-of-line per citizen: is there an earlier open message to the same lane?
    await q.query(
      `CREATE INDEX "outbound_message_lane_open_idx" ON "gateway"."outbound_message" ("lane", "seq") WHERE "state" IN ('queued', 'sending', 'uncertain')`,
    );
    await q.query(
      `CREATE INDEX "outbound_message_inflight_idx" ON "gateway"."outbound_message" ("state", "due_at") WHERE "state" IN ('sending', 'uncertain')`,
    );
    await q.query(`CREATE INDEX "outbound_message_tenant_idx" ON "gateway"."outbound_message" ("tenant_id", "created_at")`);

    // One row per (wamid, status): Meta's duplicates collapse here. request_id comes from
    // biz_opaque_callback_data, so a status can name a request whose wamid we never recorded.
    await q.query(`
      CREATE TABLE "gateway"."message_status" (
        "wamid" text NOT NULL,
        "status" text NOT NULL,
        "occurred_at" timestamptz NOT NULL,
        "tenant_id" text NOT NULL,
        "request_id" uuid,
        "errors" jsonb,
        "pricing" jsonb,
        "recorded_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("wamid", "status")
      )`);
    await q.query(`CREATE INDEX "message_status_request_idx" ON "gateway"."message_status" ("request_id") WHERE "request_id" IS NOT NULL`);

    // The per-number budget shared by all replicas: one row per number per time slot.
    await q.query(`
      CREATE TABLE "gateway"."rate_slot" (
        "phone_number_id" text NOT NULL,
        "slot" bigint NOT NULL,
        "used" int NOT NULL,
        "last_grant" int NOT NULL,
        PRIMARY KEY ("phone_number_id", "slot")
      )`);

    // Pair pacing (GCRA): the theoretical arrival time of the next message to a citizen.
    await q.query(`CREATE TABLE "gateway"."pair_pacing" ("lane" text PRIMARY KEY, "tat" timestamptz NOT NULL)`);

    await q.query(`
      CREATE TABLE "gateway"."consent" (
        "tenant_id" text NOT NULL,
        "wa_id" text NOT NULL,
        "category" text NOT NULL,
        "state" text NOT NULL,
        "channel" text NOT NULL,
        "occurred_at" timestamptz NOT NULL,
        PRIMARY KEY ("tenant_id", "wa_id", "category")
      )`);

    await q.query(`
      CREATE TABLE "gateway"."template_catalog" (
        "tenant_id" text NOT NULL,
        "name" text NOT NULL,
        "language" text NOT NULL,
        "status" text NOT NULL,
        "category" text NOT NULL,
        "version" int NOT NULL,
        "entry" jsonb NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("tenant_id", "name", "language")
      )`);

    // Stop sending for a tenant or a number (bad token, blocked account, maintenance, spam limit).
    await q.query(`
      CREATE TABLE "gateway"."hold" (
        "scope" text NOT NULL CHECK ("scope" IN ('tenant', 'phone')),
        "scope_id" text NOT NULL,
        "reason" text NOT NULL,
        "code" int,
        "until" timestamptz NOT NULL,
        "bulk_only" boolean NOT NULL DEFAULT false,
        "token_fingerprint" text,
        "detail" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("scope", "scope_id", "reason")
      )`);

    await q.query(`
      CREATE TABLE "gateway"."replica" (
        "id" text PRIMARY KEY,
        "started_at" timestamptz NOT NULL DEFAULT now(),
        "heartbeat_at" timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE "gateway"."media_asset" (
        "asset_id" uuid PRIMARY KEY,
        "tenant_id" text NOT NULL,
        "filename" text,
        "mime_type" text NOT NULL,
        "sha256" text NOT NULL,
        "size" int NOT NULL,
        "data" bytea NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "last_used_at" timestamptz
      )`);
    await q.query(`CREATE INDEX "media_asset_tenant_idx" ON "gateway"."media_asset" ("tenant_id", "created_at")`);
    await q.query(`
      CREATE TABLE "gateway"."media_upload" (
        "asset_id" uuid NOT NULL REFERENCES "gateway"."media_asset" ("asset_id") ON DELETE CASCADE,
        "phone_number_id" text NOT NULL,
        "media_id" text NOT NULL,
        "uploaded_at" timestamptz NOT NULL,
        "expires_at" timestamptz NOT NULL,
        PRIMARY KEY ("asset_id", "phone_number_id")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'media_upload',
      'media_asset',
      'replica',
      'hold',
      'template_catalog',
      'consent',
      'pair_pacing',
      'rate_slot',
      'message_status',
      'outbound_message',
    ]) {
      await q.query(`DROP TABLE "gateway"."${table}"`);
    }
    await q.query(`DELETE FROM "gateway"."contact_window" WHERE "phone_number_id" <> ''`);
    await q.query(`ALTER TABLE "gateway"."contact_window" DROP CONSTRAINT "contact_window_pkey"`);
    await q.query(`ALTER TABLE "gateway"."contact_window" DROP COLUMN "phone_number_id"`);
    await q.query(`ALTER TABLE "gateway"."contact_window" ADD PRIMARY KEY ("tenant_id", "wa_id")`);
  }
}
