import { createTable, sqlMigration, tablesMigration } from '@cloud-connect/db';

/** Completed forms posted by the forms platform: encrypted under the site's SEK, once per form id. */
export const CompletedForms1732300004300 = tablesMigration('CompletedForms1732300004300', (s) => [
  createTable(
    s,
    'completed_forms',
    {
      id: 'uuid PRIMARY KEY',
      site_number: 'text NOT NULL',
      oauth_client_id: 'text NOT NULL',
      form_key: 'text NOT NULL',
      kind: "text NOT NULL CHECK (kind IN ('questionnaire', 'web-form'))",
      content_sha256: 'bytea NOT NULL',
      form_ciphertext: 'bytea NOT NULL',
      received_at: 'timestamptz NOT NULL DEFAULT now()',
    },
    'UNIQUE (site_number, form_key)',
  ),
]);

/** Replaces the check on `completed_forms.kind` with one accepting exactly `kinds`. */
function allowFormKinds(s: string, kinds: string[]): string[] {
  return [
    `ALTER TABLE "${s}".completed_forms DROP CONSTRAINT IF EXISTS completed_forms_kind_check`,
    `ALTER TABLE "${s}".completed_forms ADD CONSTRAINT completed_forms_kind_check
         CHECK (kind IN (${kinds.map((kind) => `'${kind}'`).join(', ')}))`,
  ];
}

/** Kiosk check-ins (a FHIR `Encounter` from the platform) are kept beside the completed forms. */
export const KioskCheckIns1732300090100 = sqlMigration('KioskCheckIns1732300090100', {
  up: (s) => allowFormKinds(s, ['questionnaire', 'web-form', 'kiosk-check-in']),
  down: (s) => allowFormKinds(s, ['questionnaire', 'web-form']),
});
