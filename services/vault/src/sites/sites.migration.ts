import { dropTables, sqlMigration } from '@cloud-connect/db';

export const Sites1732300001000 = sqlMigration('Sites1732300001000', {
  up: (s) => [
    `
      CREATE TABLE "${s}".sites (
        site_number text PRIMARY KEY CHECK (site_number ~ '^[1-9][0-9]{0,9}$'),
        name text NOT NULL,
        locale text NOT NULL CHECK (locale IN ('en', 'fr')),
        timezone text NOT NULL,
        admin_email text NOT NULL,
        clinical_admin_email text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
  ],
  down: dropTables('sites'),
});
