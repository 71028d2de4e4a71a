import { createTable, tablesMigration } from '@cloud-connect/db';

/**
 * OAuth clients of integrators (per site), their secrets (Argon2id hashes only; several during a
 * rotation overlap), the private_key_jwt assertion ids already used (kept until they expire), and
 * the access-token signing keys (private half sealed; see signing-keys-sealing.migration.ts).
 */
export const OAuthClients1732300004000 = tablesMigration('OAuthClients1732300004000', (s) => [
  createTable(s, 'oauth_clients', {
    client_id: 'text PRIMARY KEY',
    site_number: 'text NOT NULL',
    name: 'text NOT NULL',
    scopes: 'text[] NOT NULL',
    jwks: 'jsonb',
    jwks_url: 'text',
    revoked_at: 'timestamptz',
    created_by: 'text NOT NULL',
    created_at: 'timestamptz NOT NULL DEFAULT now()',
  }),
  `CREATE UNIQUE INDEX oauth_clients_name ON "${s}".oauth_clients (site_number, name)`,
  createTable(s, 'oauth_client_secrets', {
    id: 'uuid PRIMARY KEY',
    client_id: `text NOT NULL REFERENCES "${s}".oauth_clients (client_id) ON DELETE CASCADE`,
    site_number: 'text NOT NULL',
    secret_hash: 'text NOT NULL',
    hint: 'text NOT NULL',
    created_at: 'timestamptz NOT NULL DEFAULT now()',
    expires_at: 'timestamptz',
  }),
  `CREATE INDEX oauth_client_secrets_client ON "${s}".oauth_client_secrets (site_number, client_id)`,
  createTable(
    s,
    'oauth_used_assertions',
    {
      site_number: 'text NOT NULL',
      client_id: 'text NOT NULL',
      jti: 'text NOT NULL',
      expires_at: 'timestamptz NOT NULL',
    },
    'PRIMARY KEY (site_number, client_id, jti)',
  ),
  `CREATE INDEX oauth_used_assertions_expiry ON "${s}".oauth_used_assertions (expires_at)`,
  createTable(s, 'oauth_signing_keys', {
    kid: 'text PRIMARY KEY',
    alg: 'text NOT NULL',
    public_jwk: 'jsonb NOT NULL',
    private_ciphertext: 'bytea NOT NULL',
    created_at: 'timestamptz NOT NULL DEFAULT now()',
  }),
]);
