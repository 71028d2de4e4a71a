import { createTable, tablesMigration } from '@cloud-connect/db';

export const Identity1732300002000 = tablesMigration('Identity1732300002000', (s) => [
  createTable(s, 'users', {
    id: 'uuid PRIMARY KEY',
    email: 'text NOT NULL',
    password_hash: 'text NOT NULL',
    disabled: 'boolean NOT NULL DEFAULT false',
    created_at: 'timestamptz NOT NULL DEFAULT now()',
  }),
  `CREATE UNIQUE INDEX users_email ON "${s}".users (lower(email))`,
  createTable(
    s,
    'site_roles',
    {
      user_id: `uuid NOT NULL REFERENCES "${s}".users (id)`,
      site_number: `text NOT NULL REFERENCES "${s}".sites (site_number)`,
      role: "text NOT NULL CHECK (role IN ('admin', 'member'))",
      granted_at: 'timestamptz NOT NULL DEFAULT now()',
    },
    'PRIMARY KEY (user_id, site_number)',
  ),
]);
