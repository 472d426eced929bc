import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The chatbot's own data: flow versions (drafts, the published one, retired ones), one session per
 * citizen in a flow, the folded owner of each conversation, the citizen's profile (language chosen,
 * last message) and case reference sequences. The older `contact` table is left as it is.
 */
export class Conversations1765100000000 implements MigrationInterface {
  name = 'Conversations1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Every version of every flow. At most one draft and one published version per flow; rollback
    // republishes the previous published version (the one with the latest published_at that was
    // not itself rolled back).
    await queryRunner.query(`
      CREATE TABLE "chatbot"."flow_version" (
        "tenant_id" text NOT NULL,
        "flow" text NOT NULL,
        "version" int NOT NULL CHECK ("version" > 0),
        "state" text NOT NULL CHECK ("state" IN ('draft', 'published', 'retired')),
        "definition" jsonb NOT NULL,
        "source" text NOT NULL,
        "source_sha256" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "created_by" text NOT NULL,
        "published_at" timestamptz,
        "published_by" text,
        "rolled_back_at" timestamptz,
        PRIMARY KEY ("tenant_id", "flow", "version")
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "flow_version_one_published" ON "chatbot"."flow_version" ("tenant_id", "flow") WHERE "state" = 'published'`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "flow_version_one_draft" ON "chatbot"."flow_version" ("tenant_id", "flow") WHERE "state" = 'draft'`,
    );

    // One running flow per citizen; the engine's Session as it left it, and what the sweeper needs.
    await queryRunner.query(`
      CREATE TABLE "chatbot"."session" (
        "tenant_id" text NOT NULL,
        "citizen_key" text NOT NULL,
        "flow" text NOT NULL,
        "version" int NOT NULL,
        "state" jsonb NOT NULL,
        "transcript" jsonb NOT NULL DEFAULT '[]',
        "started_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "expires_at" timestamptz NOT NULL,
        "timeout_at" timestamptz,
        PRIMARY KEY ("tenant_id", "citizen_key")
      )`);
    await queryRunner.query(`CREATE INDEX "session_timeout_idx" ON "chatbot"."session" ("timeout_at") WHERE "timeout_at" IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "session_expires_idx" ON "chatbot"."session" ("expires_at")`);

    // Who answers the citizen, folded from conversation.owner.v1 (no row: the bot).
    await queryRunner.query(`
      CREATE TABLE "chatbot"."conversation_owner" (
        "tenant_id" text NOT NULL,
        "citizen_key" text NOT NULL,
        "owner" text NOT NULL CHECK ("owner" IN ('bot', 'queued', 'agent', 'closed')),
        "conversation_id" text,
        "agent_id" text,
        "department" text,
        "since" timestamptz NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("tenant_id", "citizen_key")
      )`);

    // The citizen as the chatbot knows them: how to reach them, the language they chose, and their
    // last message (the 24-hour window for the sweeper's answers).
    await queryRunner.query(`
      CREATE TABLE "chatbot"."citizen_profile" (
        "tenant_id" text NOT NULL,
        "citizen_key" text NOT NULL,
        "contact" jsonb NOT NULL,
        "profile_name" text,
        "language" text,
        "language_chosen_at" timestamptz,
        "phone_number_id" text,
        "last_inbound_at" timestamptz NOT NULL,
        "last_message_id" text NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("tenant_id", "citizen_key")
      )`);

    // Readable case references: RD-2026-000123, one counter per tenant, prefix and year.
    await queryRunner.query(`
      CREATE TABLE "chatbot"."case_sequence" (
        "tenant_id" text NOT NULL,
        "prefix" text NOT NULL,
        "year" int NOT NULL,
        "last_value" bigint NOT NULL,
        PRIMARY KEY ("tenant_id", "prefix", "year")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['case_sequence', 'citizen_profile', 'conversation_owner', 'session', 'flow_version']) {
      await queryRunner.query(`DROP TABLE "chatbot"."${table}"`);
    }
  }
}
