import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The delivery status is read from `message_status` (the API already derived it there). Keeping a
 * copy on the request row rewrote that wide row once per status webhook (sent, delivered, read: up
 * to three times per message) for a value nothing read.
 */
export class DerivedDeliveryStatus1764374400000 implements MigrationInterface {
  name = 'DerivedDeliveryStatus1764374400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "gateway"."outbound_message" DROP COLUMN "delivery_status", DROP COLUMN "delivery_status_at"`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE "gateway"."outbound_message" ADD COLUMN "delivery_status" text, ADD COLUMN "delivery_status_at" timestamptz`,
    );
    await q.query(
      `UPDATE gateway.outbound_message m SET delivery_status = s.status, delivery_status_at = s.occurred_at
       FROM (SELECT DISTINCT ON (wamid) wamid, status, occurred_at FROM gateway.message_status
             ORDER BY wamid, CASE status WHEN 'failed' THEN 9 WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 ELSE 3 END DESC) s
       WHERE m.wamid = s.wamid`,
    );
  }
}
