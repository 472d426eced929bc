import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A `claimed` state between `queued` and `sending`: the dispatcher claims a second's worth of
 * messages at once (rules applied) and moves them to `sending` slot by slot, right before the
 * call. A claimed message of a dead replica was never sent, so it goes back to `queued` at once
 * instead of waiting out the uncertain grace period.
 */
export class ClaimedState1764288000000 implements MigrationInterface {
  name = 'ClaimedState1764288000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "gateway"."outbound_message" DROP CONSTRAINT "outbound_message_state_check"`);
    await q.query(
      `ALTER TABLE "gateway"."outbound_message" ADD CONSTRAINT "outbound_message_state_check"
       CHECK ("state" IN ('queued', 'claimed', 'sending', 'uncertain', 'accepted', 'failed'))`,
    );
    await q.query(`DROP INDEX "gateway"."outbound_message_lane_open_idx"`);
    await q.query(
      `CREATE INDEX "outbound_message_lane_open_idx" ON "gateway"."outbound_message" ("lane", "seq")
       WHERE "state" IN ('queued', 'claimed', 'sending', 'uncertain')`,
    );
    await q.query(`DROP INDEX "gateway"."outbound_message_inflight_idx"`);
    await q.query(
      `CREATE INDEX "outbound_message_inflight_idx" ON "gateway"."outbound_message" ("state", "due_at")
       WHERE "state" IN ('claimed', 'sending', 'uncertain')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE "gateway"."outbound_message" SET "state" = 'queued', "claimed_by" = NULL, "lease_until" = NULL WHERE "state" = 'claimed'`,
    );
    await q.query(`DROP INDEX "gateway"."outbound_message_inflight_idx"`);
    await q.query(
      `CREATE INDEX "outbound_message_inflight_idx" ON "gateway"."outbound_message" ("state", "due_at") WHERE "state" IN ('sending', 'uncertain')`,
    );
    await q.query(`DROP INDEX "gateway"."outbound_message_lane_open_idx"`);
    await q.query(
      `CREATE INDEX "outbound_message_lane_open_idx" ON "gateway"."outbound_message" ("lane", "seq") WHERE "state" IN ('queued', 'sending', 'uncertain')`,
    );
    await q.query(`ALTER TABLE "gateway"."outbound_message" DROP CONSTRAINT "outbound_message_state_check"`);
    await q.query(
      `ALTER TABLE "gateway"."outbound_message" ADD CONSTRAINT "outbound_message_state_check"
       CHECK ("state" IN ('queued', 'sending', 'uncertain', 'accepted', 'failed'))`,
    );
  }
}
