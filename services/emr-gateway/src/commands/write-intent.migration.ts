import { schemaOf } from '@cloud-connect/db';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the gateway applied, and what it may have: `write_started_at` is committed just before a
 * command's write is sent to an EMR that can be read back, so an attempt after a crash or a lost
 * answer knows to look in the chart before it writes again (docs/emr.md, "Exactly once").
 */
export class EmrWriteIntent1732300014200 implements MigrationInterface {
  name = 'EmrWriteIntent1732300014200';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `ALTER TABLE "${schemaOf(runner)}".emr_commands ADD COLUMN write_started_at timestamptz`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "${schemaOf(runner)}".emr_commands DROP COLUMN write_started_at`);
  }
}
