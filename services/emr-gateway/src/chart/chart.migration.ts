import { schemaOf } from '@cloud-connect/db';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Into the chart: a command can be `held` (no chart, or several, match its patient) until a site
 * admin picks the chart (`chosen_patient_id`, an EMR chart id); `source_ref` names the inbound
 * message a command was made from (e.g. `referral/<id>`), never PHI.
 */
export class EmrChartColumns1732300006100 implements MigrationInterface {
  name = 'EmrChartColumns1732300006100';

  async up(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(`ALTER TABLE "${s}".emr_commands DROP CONSTRAINT IF EXISTS emr_commands_status_check`);
    await runner.query(
      `ALTER TABLE "${s}".emr_commands ADD CONSTRAINT emr_commands_status_check
         CHECK (status IN ('pending', 'applied', 'skipped', 'dead', 'held'))`,
    );
    await runner.query(`ALTER TABLE "${s}".emr_commands
      ADD COLUMN chosen_patient_id text,
      ADD COLUMN hold_reason text,
      ADD COLUMN hold_candidates jsonb,
      ADD COLUMN source_ref text`);
    await runner.query(
      `CREATE INDEX emr_commands_unresolved ON "${s}".emr_commands (site_number, occurred_at, seq)
         WHERE status = 'pending' AND patient_key LIKE 'unresolved:%'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(`DROP INDEX "${s}".emr_commands_unresolved`);
    await runner.query(`ALTER TABLE "${s}".emr_commands
      DROP COLUMN chosen_patient_id, DROP COLUMN hold_reason, DROP COLUMN hold_candidates, DROP COLUMN source_ref`);
  }
}
