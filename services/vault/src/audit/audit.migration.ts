import { sqlMigration } from '@cloud-connect/db';

/**
 * The append-only audit trail: one hash chain per site. A trigger rejects UPDATE, DELETE and
 * TRUNCATE for every role that does not bypass triggers (a superuser or the table owner can still
 * disable it: see docs/security.md for what the chain then detects and what it cannot).
 */
export const AuditEntries1732300005000 = sqlMigration('AuditEntries1732300005000', {
  up: (s) => [
    `
      CREATE TABLE "${s}".audit_entries (
        site_number text NOT NULL,
        seq bigint NOT NULL CHECK (seq > 0),
        audit_id uuid NOT NULL UNIQUE,
        occurred_at timestamptz NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        target text NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('allowed', 'denied', 'failed')),
        source_address text,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (site_number, seq)
      )`,
    `CREATE INDEX audit_entries_site_time ON "${s}".audit_entries (site_number, occurred_at)`,
    `
      CREATE FUNCTION "${s}".audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_entries is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`,
    `
      CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON "${s}".audit_entries
      FOR EACH ROW EXECUTE FUNCTION "${s}".audit_entries_append_only()`,
    `
      CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON "${s}".audit_entries
      FOR EACH STATEMENT EXECUTE FUNCTION "${s}".audit_entries_append_only()`,
  ],
  down: (s) => [`DROP TABLE "${s}".audit_entries`, `DROP FUNCTION "${s}".audit_entries_append_only()`],
});

/**
 * The keyed chain: each entry records how its link was computed. Entries written before this
 * migration are plain SHA-256 (`sha256`) and keep verifying; new entries are `hmac-sha256`.
 */
export const AuditHashAlg1732300092500 = sqlMigration('AuditHashAlg1732300092500', {
  up: (s) => [
    `ALTER TABLE "${s}".audit_entries ADD COLUMN hash_alg text NOT NULL DEFAULT 'sha256'
       CHECK (hash_alg IN ('sha256', 'hmac-sha256'))`,
  ],
  down: (s) => [`ALTER TABLE "${s}".audit_entries DROP COLUMN hash_alg`],
});
