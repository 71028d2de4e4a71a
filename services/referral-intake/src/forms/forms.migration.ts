import { schemaOf } from '@cloud-connect/db';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Completed forms posted by the forms platform: encrypted under the site's SEK, once per form id. */
export class CompletedForms1732300004300 implements MigrationInterface {
  name = 'CompletedForms1732300004300';

  async up(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(`
      CREATE TABLE "${s}".completed_forms (
        id uuid PRIMARY KEY,
        site_number text NOT NULL,
        oauth_client_id text NOT NULL,
        form_key text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('questionnaire', 'web-form')),
        content_sha256 bytea NOT NULL,
        form_ciphertext bytea NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (site_number, form_key)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "${schemaOf(runner)}".completed_forms`);
  }
}

/** Kiosk check-ins (a FHIR `Encounter` from the platform) are kept beside the completed forms. */
export class KioskCheckIns1732300090100 implements MigrationInterface {
  name = 'KioskCheckIns1732300090100';

  async up(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(
      `ALTER TABLE "${s}".completed_forms DROP CONSTRAINT IF EXISTS completed_forms_kind_check`,
    );
    await runner.query(
      `ALTER TABLE "${s}".completed_forms ADD CONSTRAINT completed_forms_kind_check
         CHECK (kind IN ('questionnaire', 'web-form', 'kiosk-check-in'))`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(
      `ALTER TABLE "${s}".completed_forms DROP CONSTRAINT IF EXISTS completed_forms_kind_check`,
    );
    await runner.query(
      `ALTER TABLE "${s}".completed_forms ADD CONSTRAINT completed_forms_kind_check
         CHECK (kind IN ('questionnaire', 'web-form'))`,
    );
  }
}
