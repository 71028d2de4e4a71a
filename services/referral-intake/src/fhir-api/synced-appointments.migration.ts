import { schemaOf } from '@cloud-connect/db';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Appointments read by the site's EMR syncs, for the FHIR pull API (`Appointment`, `Patient`).
 * Each row keeps the vault service's envelope as it came on `appointments.synced` (sealed under
 * the site's SEK, bound to `emr-appointment/<appointment_id>`); in clear only the EMR's
 * appointment id, a keyed hash of the EMR's patient id (the FHIR Patient id) and a keyed hash of
 * the content (an unchanged appointment keeps its `last_updated`).
 */
export class SyncedAppointments1732300004400 implements MigrationInterface {
  name = 'SyncedAppointments1732300004400';

  async up(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(`
      CREATE TABLE "${s}".synced_appointments (
        id uuid PRIMARY KEY,
        site_number text NOT NULL,
        appointment_id text NOT NULL,
        patient_key text NOT NULL,
        content_mac text NOT NULL,
        sealed bytea NOT NULL,
        last_updated timestamptz NOT NULL DEFAULT clock_timestamp(),
        UNIQUE (site_number, appointment_id)
      )`);
    await runner.query(
      `CREATE INDEX synced_appointments_paging ON "${s}".synced_appointments (site_number, last_updated, id)`,
    );
    await runner.query(
      `CREATE INDEX synced_appointments_patient ON "${s}".synced_appointments (site_number, patient_key)`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "${schemaOf(runner)}".synced_appointments`);
  }
}
