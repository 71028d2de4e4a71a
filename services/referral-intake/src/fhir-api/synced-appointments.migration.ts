import { createTable, tablesMigration } from '@cloud-connect/db';

/**
 * Appointments read by the site's EMR syncs, for the FHIR pull API (`Appointment`, `Patient`).
 * Each row keeps the vault service's envelope as it came on `appointments.synced` (sealed under
 * the site's SEK, bound to `emr-appointment/<appointment_id>`); in clear only the EMR's
 * appointment id, a keyed hash of the EMR's patient id (the FHIR Patient id) and a keyed hash of
 * the content (an unchanged appointment keeps its `last_updated`).
 */
export const SyncedAppointments1732300004400 = tablesMigration('SyncedAppointments1732300004400', (s) => [
  createTable(
    s,
    'synced_appointments',
    {
      id: 'uuid PRIMARY KEY',
      site_number: 'text NOT NULL',
      appointment_id: 'text NOT NULL',
      patient_key: 'text NOT NULL',
      content_mac: 'text NOT NULL',
      sealed: 'bytea NOT NULL',
      last_updated: 'timestamptz NOT NULL DEFAULT clock_timestamp()',
    },
    'UNIQUE (site_number, appointment_id)',
  ),
  `CREATE INDEX synced_appointments_paging ON "${s}".synced_appointments (site_number, last_updated, id)`,
  `CREATE INDEX synced_appointments_patient ON "${s}".synced_appointments (site_number, patient_key)`,
]);
