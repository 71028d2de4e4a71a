import { sqlMigration } from '@cloud-connect/db';

/**
 * Status back from the receivers of referrals. Their messages are stored like every inbound
 * message (in `referrals`, encrypted), so a message may now come from an OAuth client instead of
 * an integration. `referral_states` holds the current state of each referral as codes only (no
 * free text, nothing that names a patient), which the FHIR pull API lays over the stored
 * ServiceRequest; `referral_appointments` the current state of each appointment booked for one.
 */
export const StatusUpdates1732300004200 = sqlMigration('StatusUpdates1732300004200', {
  up: (s) => [
    `ALTER TABLE "${s}".referrals ALTER COLUMN integration_id DROP NOT NULL`,
    `ALTER TABLE "${s}".referrals ADD COLUMN oauth_client_id text`,
    `
      ALTER TABLE "${s}".referrals ADD CONSTRAINT referrals_one_sender
        CHECK ((integration_id IS NULL) <> (oauth_client_id IS NULL))`,
    `
      CREATE TABLE "${s}".referral_states (
        site_number text NOT NULL,
        service_request_id text NOT NULL,
        status text NOT NULL,
        task_status text,
        business_status text,
        message_id uuid NOT NULL,
        message_timestamp timestamptz NOT NULL,
        changed_by text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (site_number, service_request_id)
      )`,
    `
      CREATE TABLE "${s}".referral_appointments (
        site_number text NOT NULL,
        appointment_id text NOT NULL,
        service_request_id text,
        status text NOT NULL,
        starts_at timestamptz,
        ends_at timestamptz,
        message_id uuid NOT NULL,
        message_timestamp timestamptz NOT NULL,
        changed_by text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (site_number, appointment_id)
      )`,
  ],
  down: (s) => [
    `DROP TABLE "${s}".referral_appointments`,
    `DROP TABLE "${s}".referral_states`,
    `ALTER TABLE "${s}".referrals DROP CONSTRAINT referrals_one_sender`,
    `ALTER TABLE "${s}".referrals DROP COLUMN oauth_client_id`,
    `ALTER TABLE "${s}".referrals ALTER COLUMN integration_id SET NOT NULL`,
  ],
});
