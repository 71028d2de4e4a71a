import { schemaOf } from '@cloud-connect/db';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Sites1732300001000 implements MigrationInterface {
  name = 'Sites1732300001000';

  async up(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(`
      CREATE TABLE "${s}".sites (
        site_number text PRIMARY KEY CHECK (site_number ~ '^[1-9][0-9]{0,9}$'),
        name text NOT NULL,
        locale text NOT NULL CHECK (locale IN ('en', 'fr')),
        timezone text NOT NULL,
        admin_email text NOT NULL,
        clinical_admin_email text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "${schemaOf(runner)}".sites`);
  }
}
