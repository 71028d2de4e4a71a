import { dropTables, sqlMigration } from '@cloud-connect/db';

/**
 * The scheduler's tables: per-site sync schedules, the appointments it knows of, reminders and
 * notices (one row per message it will ask the notifier to send), each site's reminder policy and
 * patients' opt-outs. No contact detail in clear: `patient_contact` holds the vault service's
 * sealed envelope as it came in `appointment.changed`.
 */
export const SchedulerTables1732300014000 = sqlMigration('SchedulerTables1732300014000', {
  up: (s) => [
    `
      CREATE TABLE "${s}".schedules (
        site_number text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('sync-recent', 'sync-full')),
        timezone text NOT NULL,
        next_run_at timestamptz NOT NULL,
        last_run_at timestamptz,
        last_slot_at timestamptz,
        last_request_id uuid,
        runs integer NOT NULL DEFAULT 0,
        last_runner text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (site_number, kind)
      )`,
    `CREATE INDEX schedules_due ON "${s}".schedules (next_run_at)`,
    `
      CREATE TABLE "${s}".appointments (
        site_number text NOT NULL,
        appointment_id text NOT NULL,
        source text NOT NULL,
        service_request_id text,
        status text NOT NULL,
        starts_at timestamptz,
        patient_ref text,
        patient_locale text,
        patient_channels text[] NOT NULL DEFAULT '{}',
        contact_record_id text,
        patient_contact text,
        message_id uuid NOT NULL,
        changed_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (site_number, appointment_id)
      )`,
    `
      CREATE TABLE "${s}".reminders (
        id uuid PRIMARY KEY,
        site_number text NOT NULL,
        appointment_id text NOT NULL,
        kind text NOT NULL,
        channel text NOT NULL CHECK (channel IN ('email', 'sms')),
        lead_minutes integer,
        appointment_start timestamptz,
        due_at timestamptz NOT NULL,
        status text NOT NULL CHECK (status IN ('scheduled', 'sent', 'cancelled', 'failed')),
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      )`,
    `CREATE INDEX reminders_due ON "${s}".reminders (due_at) WHERE status = 'scheduled'`,
    `CREATE INDEX reminders_site_appointment ON "${s}".reminders (site_number, appointment_id)`,
    `
      CREATE TABLE "${s}".reminder_policies (
        site_number text PRIMARY KEY,
        policy jsonb NOT NULL,
        version integer NOT NULL DEFAULT 1,
        updated_by text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
    `
      CREATE TABLE "${s}".reminder_opt_outs (
        site_number text NOT NULL,
        patient_ref text NOT NULL,
        channel text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (site_number, patient_ref)
      )`,
  ],
  down: dropTables('reminder_opt_outs', 'reminder_policies', 'reminders', 'appointments', 'schedules'),
});
