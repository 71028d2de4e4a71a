import { schemaOf } from '@cloud-connect/db';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The next full sync's time in the sync status (the scheduler's nightly slot). */ export class SyncNextFull1732300014100 implements MigrationInterface {
  name = 'SyncNextFull1732300014100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `ALTER TABLE "${schemaOf(runner)}".emr_sync_status ADD COLUMN next_full_at timestamptz`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${schemaOf(runner)}".emr_sync_status DROP COLUMN next_full_at`);
  }
}
