import { createTable, sqlMigration, tablesMigration } from '@cloud-connect/db';

/**
 * One row per accepted message bundle. The bundle itself is only stored encrypted; the columns
 * beside it are the non-PHI routing and search keys a FHIR pull API needs next (ServiceRequest id,
 * last updated, event), so ServiceRequest?_lastUpdated=... is an index scan plus decryption.
 */
export const Referrals1732300003100 = tablesMigration('Referrals1732300003100', (s) => [
  createTable(s, 'referrals', {
    id: 'uuid PRIMARY KEY',
    site_number: 'text NOT NULL',
    integration_id: 'uuid NOT NULL',
    bundle_id: 'text NOT NULL',
    message_header_id: 'text NOT NULL',
    event_code: 'text NOT NULL',
    service_request_id: 'text',
    content_sha256: 'bytea NOT NULL',
    bundle_ciphertext: 'bytea NOT NULL',
    response: 'text NOT NULL',
    warnings: 'integer NOT NULL DEFAULT 0',
    received_at: 'timestamptz NOT NULL DEFAULT now()',
    last_updated: 'timestamptz NOT NULL DEFAULT now()',
  }),
  `CREATE UNIQUE INDEX referrals_bundle_id ON "${s}".referrals (site_number, bundle_id)`,
  `CREATE UNIQUE INDEX referrals_message_header_id ON "${s}".referrals (site_number, message_header_id)`,
  `CREATE INDEX referrals_service_request ON "${s}".referrals (site_number, service_request_id, last_updated)`,
  `CREATE INDEX referrals_last_updated ON "${s}".referrals (site_number, last_updated)`,
]);

/**
 * The echo key of a referral-creating message (a hash of its ServiceRequest's identifiers, no
 * PHI): a copy we delivered that comes back re-wrapped under a new MessageHeader is recognised by
 * it, also under concurrent posts (unique per site).
 */
export const ReferralEchoKey1732300004300 = sqlMigration('ReferralEchoKey1732300004300', {
  up: (s) => [
    `ALTER TABLE "${s}".referrals ADD COLUMN echo_key bytea`,
    `CREATE UNIQUE INDEX referrals_echo_key ON "${s}".referrals (site_number, echo_key) WHERE echo_key IS NOT NULL`,
  ],
  down: (s) => [`DROP INDEX "${s}".referrals_echo_key`, `ALTER TABLE "${s}".referrals DROP COLUMN echo_key`],
});
