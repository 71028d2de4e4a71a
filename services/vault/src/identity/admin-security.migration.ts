import { createTable, tablesMigration } from '@cloud-connect/db';

/**
 * Sign-in sessions (revocable; the access token carries the id as `sid`, the CLI holds the
 * refresh token whose SHA-256 only is kept), the TOTP factor's state (the secret itself is in
 * Vault KV; here the last accepted time step, against replay) and hashed single-use recovery codes.
 */
export const AdminSecurity1732300092000 = tablesMigration('AdminSecurity1732300092000', (s) => [
  createTable(s, 'admin_sessions', {
    id: 'uuid PRIMARY KEY',
    user_id: `uuid NOT NULL REFERENCES "${s}".users (id) ON DELETE CASCADE`,
    refresh_hash: 'text NOT NULL UNIQUE',
    amr: 'text[] NOT NULL',
    auth_time: 'timestamptz NOT NULL',
    source_address: 'text NOT NULL',
    user_agent: 'text',
    created_at: 'timestamptz NOT NULL DEFAULT now()',
    last_seen_at: 'timestamptz NOT NULL DEFAULT now()',
    revoked_at: 'timestamptz',
    revoked_reason: 'text',
  }),
  `CREATE INDEX admin_sessions_user ON "${s}".admin_sessions (user_id, created_at DESC)`,
  createTable(s, 'admin_totp', {
    user_id: `uuid PRIMARY KEY REFERENCES "${s}".users (id) ON DELETE CASCADE`,
    state: "text NOT NULL CHECK (state IN ('pending', 'active'))",
    last_step: 'bigint NOT NULL DEFAULT 0',
    created_at: 'timestamptz NOT NULL DEFAULT now()',
    confirmed_at: 'timestamptz',
  }),
  createTable(
    s,
    'admin_recovery_codes',
    {
      user_id: `uuid NOT NULL REFERENCES "${s}".users (id) ON DELETE CASCADE`,
      code_hash: 'text NOT NULL',
      used_at: 'timestamptz',
    },
    'PRIMARY KEY (user_id, code_hash)',
  ),
]);
