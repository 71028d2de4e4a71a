import { schemaOf } from '@cloud-connect/db';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One-time links to set a password (an invitation) or to choose a new one (a reset): only the
 * SHA-256 of the token is kept, with its expiry and when it was used.
 */
export class AccountTokens1732300091000 implements MigrationInterface {
  name = 'AccountTokens1732300091000';

  async up(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(`
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
      )`);
    await runner.query(`CREATE INDEX account_tokens_user ON "${s}".account_tokens (user_id)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "${schemaOf(runner)}".account_tokens`);
  }
}
