import { schemaOf } from '@cloud-connect/db';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sign-in sessions (revocable; the access token carries the id as `sid`, the CLI holds the
 * refresh token whose SHA-256 only is kept), the TOTP factor's state (the secret itself is in
 * Vault KV; here the last accepted time step, against replay) and hashed single-use recovery codes.
 */
export class AdminSecurity1732300092000 implements MigrationInterface {
  name = 'AdminSecurity1732300092000';

  async up(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(`
      CREATE TABLE "${s}".admin_sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES "${s}".users (id) ON DELETE CASCADE,
        refresh_hash text NOT NULL UNIQUE,
        amr text[] NOT NULL,
        auth_time timestamptz NOT NULL,
        source_address text NOT NULL,
        user_agent text,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        revoked_reason text
      )`);
    await runner.query(
      `CREATE INDEX admin_sessions_user ON "${s}".admin_sessions (user_id, created_at DESC)`,
    );
    await runner.query(`
      CREATE TABLE "${s}".admin_totp (
        user_id uuid PRIMARY KEY REFERENCES "${s}".users (id) ON DELETE CASCADE,
        state text NOT NULL CHECK (state IN ('pending', 'active')),
        last_step bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        confirmed_at timestamptz
      )`);
    await runner.query(`
      CREATE TABLE "${s}".admin_recovery_codes (
        user_id uuid NOT NULL REFERENCES "${s}".users (id) ON DELETE CASCADE,
        code_hash text NOT NULL,
        used_at timestamptz,
        PRIMARY KEY (user_id, code_hash)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(`DROP TABLE "${s}".admin_recovery_codes`);
    await runner.query(`DROP TABLE "${s}".admin_totp`);
    await runner.query(`DROP TABLE "${s}".admin_sessions`);
  }
}
