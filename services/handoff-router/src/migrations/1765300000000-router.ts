import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The router's model: tenant settings, departments (queues), agents, conversations with their
 * transcripts, canned responses, the approved-template read model, deflections, the folded owner
 * of each citizen, and the per-tenant console event log behind the event streams.
 */
export class Router1765300000000 implements MigrationInterface {
  name = 'Router1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "handoff"."handoff_request"`);
    await q.query(`
      CREATE TABLE "handoff"."tenant_setting" (
        "tenant_id" text PRIMARY KEY,
        "retention_days" integer NOT NULL DEFAULT 90 CHECK ("retention_days" BETWEEN 1 AND 3650),
        "survey" boolean NOT NULL DEFAULT true,
        "version" integer NOT NULL DEFAULT 1,
        "updated_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE "handoff"."department" (
        "tenant_id" text NOT NULL,
        "id" text NOT NULL,
        "names" jsonb NOT NULL,
        "sla_seconds" integer NOT NULL DEFAULT 300,
        "widen_languages" boolean NOT NULL DEFAULT false,
        "widen_departments" text[] NOT NULL DEFAULT '{}',
        "max_queue" integer,
        "version" integer NOT NULL DEFAULT 1,
        PRIMARY KEY ("tenant_id", "id")
      )`);
    await q.query(`
      CREATE TABLE "handoff"."agent" (
        "tenant_id" text NOT NULL,
        "id" text NOT NULL,
        "name" text NOT NULL,
        "role" text NOT NULL DEFAULT 'agent' CHECK ("role" IN ('agent', 'supervisor')),
        "departments" text[] NOT NULL DEFAULT '{}',
        "languages" text[] NOT NULL DEFAULT '{}',
        "capacity" integer NOT NULL DEFAULT 3 CHECK ("capacity" BETWEEN 0 AND 100),
        "presence" text NOT NULL DEFAULT 'offline' CHECK ("presence" IN ('online', 'away', 'offline')),
        "last_seen_at" timestamptz,
        "last_assigned_at" timestamptz,
        "active" boolean NOT NULL DEFAULT true,
        "version" integer NOT NULL DEFAULT 1,
        PRIMARY KEY ("tenant_id", "id")
      )`);
    await q.query(`
      CREATE TABLE "handoff"."conversation" (
        "tenant_id" text NOT NULL,
        "id" text NOT NULL,
        "citizen_key" text NOT NULL,
        "contact" jsonb NOT NULL,
        "phone_number_id" text,
        "department" text NOT NULL,
        "language" text NOT NULL,
        "reason" text NOT NULL,
        "priority" integer NOT NULL DEFAULT 0,
        "state" text NOT NULL CHECK ("state" IN ('queued', 'assigned', 'survey', 'closed')),
        "agent_id" text,
        "requested_at" timestamptz NOT NULL,
        "queued_at" timestamptz NOT NULL,
        "assigned_at" timestamptz,
        "closed_at" timestamptz,
        "close_reason" text,
        "last_inbound_at" timestamptz,
        "widen_languages" boolean NOT NULL DEFAULT false,
        "widen_departments" text[] NOT NULL DEFAULT '{}',
        "sla_alerted_at" timestamptz,
        "position_sent" integer,
        "position_sent_at" timestamptz,
        "reengaged_at" timestamptz,
        "survey_asked_at" timestamptz,
        "rating" integer CHECK ("rating" BETWEEN 1 AND 5),
        "call_id" text,
        PRIMARY KEY ("tenant_id", "id")
      )`);
    await q.query(
      `CREATE INDEX "conversation_queue" ON "handoff"."conversation" ("tenant_id", "priority" DESC, "queued_at") WHERE "state" = 'queued'`,
    );
    await q.query(`CREATE INDEX "conversation_agent" ON "handoff"."conversation" ("tenant_id", "agent_id") WHERE "state" = 'assigned'`);
    await q.query(`CREATE INDEX "conversation_citizen" ON "handoff"."conversation" ("tenant_id", "citizen_key", "state")`);
    await q.query(`CREATE INDEX "conversation_closed" ON "handoff"."conversation" ("closed_at") WHERE "state" = 'closed'`);
    await q.query(`
      CREATE TABLE "handoff"."message" (
        "id" uuid PRIMARY KEY,
        "tenant_id" text NOT NULL,
        "conversation_id" text NOT NULL,
        "author" text NOT NULL CHECK ("author" IN ('citizen', 'bot', 'agent', 'system', 'note')),
        "agent_id" text,
        "kind" text NOT NULL,
        "text" text,
        "media" jsonb,
        "template" jsonb,
        "source_id" text,
        "client_message_id" text,
        "request_id" uuid,
        "wamid" text,
        "status" text,
        "error_code" integer,
        "error_text" text,
        "at" timestamptz NOT NULL,
        "seq" bigserial NOT NULL
      )`);
    await q.query(
      `CREATE UNIQUE INDEX "message_source" ON "handoff"."message" ("tenant_id", "conversation_id", "source_id") WHERE "source_id" IS NOT NULL`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "message_client" ON "handoff"."message" ("tenant_id", "conversation_id", "client_message_id") WHERE "client_message_id" IS NOT NULL`,
    );
    await q.query(`CREATE UNIQUE INDEX "message_request" ON "handoff"."message" ("request_id") WHERE "request_id" IS NOT NULL`);
    await q.query(`CREATE INDEX "message_wamid" ON "handoff"."message" ("wamid") WHERE "wamid" IS NOT NULL`);
    await q.query(`CREATE INDEX "message_conversation" ON "handoff"."message" ("tenant_id", "conversation_id", "seq")`);
    await q.query(`
      CREATE TABLE "handoff"."canned_response" (
        "tenant_id" text NOT NULL,
        "id" text NOT NULL,
        "language" text NOT NULL,
        "title" text NOT NULL,
        "text" text NOT NULL,
        "version" integer NOT NULL DEFAULT 1,
        PRIMARY KEY ("tenant_id", "id", "language")
      )`);
    await q.query(`
      CREATE TABLE "handoff"."template" (
        "tenant_id" text NOT NULL,
        "name" text NOT NULL,
        "language" text NOT NULL,
        "status" text NOT NULL,
        "category" text NOT NULL,
        "parameter_format" text NOT NULL,
        "parameters" jsonb NOT NULL,
        "components" jsonb NOT NULL,
        "version" integer NOT NULL,
        PRIMARY KEY ("tenant_id", "name", "language")
      )`);
    await q.query(`
      CREATE TABLE "handoff"."deflection" (
        "tenant_id" text NOT NULL,
        "call_id" text NOT NULL,
        "citizen_key" text NOT NULL,
        "contact" jsonb NOT NULL,
        "department" text NOT NULL,
        "language" text NOT NULL,
        "priority" integer NOT NULL,
        "request_id" uuid NOT NULL,
        "wamid" text,
        "status" text NOT NULL CHECK ("status" IN ('pending', 'offered', 'not_reachable', 'opted_out', 'failed')),
        "detail" text,
        "error_code" integer,
        "requested_at" timestamptz NOT NULL,
        "deadline_at" timestamptz NOT NULL,
        "decided_at" timestamptz,
        "engaged_conversation_id" text,
        PRIMARY KEY ("tenant_id", "call_id")
      )`);
    await q.query(`CREATE UNIQUE INDEX "deflection_request" ON "handoff"."deflection" ("request_id")`);
    await q.query(
      `CREATE INDEX "deflection_citizen" ON "handoff"."deflection" ("tenant_id", "citizen_key") WHERE "engaged_conversation_id" IS NULL`,
    );
    await q.query(`CREATE INDEX "deflection_due" ON "handoff"."deflection" ("deadline_at") WHERE "status" = 'pending'`);
    await q.query(`
      CREATE TABLE "handoff"."conversation_owner" (
        "tenant_id" text NOT NULL,
        "citizen_key" text NOT NULL,
        "owner" text NOT NULL,
        "conversation_id" text,
        "agent_id" text,
        "department" text,
        "since" timestamptz NOT NULL,
        PRIMARY KEY ("tenant_id", "citizen_key")
      )`);
    await q.query(`
      CREATE TABLE "handoff"."console_cursor" (
        "tenant_id" text PRIMARY KEY,
        "last_seq" bigint NOT NULL
      )`);
    await q.query(`
      CREATE TABLE "handoff"."console_event" (
        "tenant_id" text NOT NULL,
        "seq" bigint NOT NULL,
        "type" text NOT NULL,
        "agent_id" text,
        "department" text,
        "conversation_id" text,
        "data" jsonb NOT NULL,
        "at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("tenant_id", "seq")
      )`);
    await q.query(`CREATE INDEX "console_event_conversation" ON "handoff"."console_event" ("tenant_id", "conversation_id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'console_event',
      'console_cursor',
      'conversation_owner',
      'deflection',
      'template',
      'canned_response',
      'message',
      'conversation',
      'agent',
      'department',
      'tenant_setting',
    ])
      await q.query(`DROP TABLE "handoff"."${t}"`);
    await q.query(`
      CREATE TABLE "handoff"."handoff_request" (
        "conversation_id" text NOT NULL, "tenant_id" text NOT NULL, "department" text NOT NULL,
        "language" text NOT NULL, "state" text NOT NULL, "requested_at" timestamptz NOT NULL,
        PRIMARY KEY ("conversation_id")
      )`);
  }
}
