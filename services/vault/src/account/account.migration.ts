import { dropTables, sqlMigration } from '@cloud-connect/db';

/**
 * One-time links to set a password (an invitation) or to choose a new one (a reset): only the
 * SHA-256 of the token is kept, with its expiry and when it was used.
 */
export const AccountTokens1732300091000 = sqlMigration('AccountTokens1732300091000', {
  up: (s) => [
    `
      CREATE TABLE "${s}".account_tokens (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES "${s}".users (id) ON DELETE CASCADE,
        site_number text NOT NULL REFERENCES "${s}".sites (site_number),
        purpose text NOT NULL CHECK (purpose IN ('invite', 'reset')),
        token_hash text NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
    `CREATE INDEX account_tokens_user ON "${s}".account_tokens (user_id)`,
  ],
  down: dropTables('account_tokens'),
});
