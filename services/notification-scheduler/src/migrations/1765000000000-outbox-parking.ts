import type { MigrationInterface, QueryRunner } from 'typeorm';
import { addOutboxParking, dropOutboxParking } from '@wa/kafka';

/** The outbox relay parks rows the broker keeps refusing (libs/kafka OutboxRelay). */
export class OutboxParking1765000000000 implements MigrationInterface {
  name = 'OutboxParking1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await addOutboxParking(queryRunner, 'scheduler');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropOutboxParking(queryRunner, 'scheduler');
  }
}
