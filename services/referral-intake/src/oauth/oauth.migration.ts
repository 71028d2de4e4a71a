import { schemaOf } from '@cloud-connect/db';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OAuth clients of integrators (per site), their secrets (Argon2id hashes only; several during a
 * rotation overlap), the private_key_jwt assertion ids already used (kept until they expire), and
 * the access-token signing keys (private half sealed; see signing-keys-sealing.migration.ts).
 */
export class OAuthClients1732300004000 implements MigrationInterface {
  name = 'OAuthClients1732300004000';

  async up(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(`
      CREATE TABLE "${s}".oauth_clients (
        client_id text PRIMARY KEY,
        site_number text NOT NULL,
        name text NOT NULL,
        scopes text[] NOT NULL,
        jwks jsonb,
        jwks_url text,
        revoked_at timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`CREATE UNIQUE INDEX oauth_clients_name ON "${s}".oauth_clients (site_number, name)`);
    await runner.query(`
      CREATE TABLE "${s}".oauth_client_secrets (
        id uuid PRIMARY KEY,
        client_id text NOT NULL REFERENCES "${s}".oauth_clients (client_id) ON DELETE CASCADE,
        site_number text NOT NULL,
        secret_hash text NOT NULL,
        hint text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz
      )`);
    await runner.query(
      `CREATE INDEX oauth_client_secrets_client ON "${s}".oauth_client_secrets (site_number, client_id)`,
    );
    await runner.query(`
      CREATE TABLE "${s}".oauth_used_assertions (
        site_number text NOT NULL,
        client_id text NOT NULL,
        jti text NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (site_number, client_id, jti)
      )`);
    await runner.query(
      `CREATE INDEX oauth_used_assertions_expiry ON "${s}".oauth_used_assertions (expires_at)`,
    );
    await runner.query(`
      CREATE TABLE "${s}".oauth_signing_keys (
        kid text PRIMARY KEY,
        alg text NOT NULL,
        public_jwk jsonb NOT NULL,
        private_ciphertext bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    for (const table of [
      'oauth_signing_keys',
      'oauth_used_assertions',
      'oauth_client_secrets',
      'oauth_clients',
    ]) {
      await runner.query(`DROP TABLE "${s}".${table}`);
    }
  }
}
