import { dropTables, sqlMigration } from '@cloud-connect/db';

export const Integrations1732300003000 = sqlMigration('Integrations1732300003000', {
  up: (s) => [
    `
      CREATE TABLE "${s}".integrations (
        id uuid PRIMARY KEY,
        site_number text NOT NULL CHECK (site_number ~ '^[1-9][0-9]{0,9}$'),
        name text NOT NULL,
        type text NOT NULL CHECK (type IN ('ereferral')),
        payload_type text NOT NULL CHECK (payload_type IN ('fhir-r4-ereferral-0.11.1')),
        auth_header_name text NOT NULL,
        request_url text,
        send_copies boolean NOT NULL DEFAULT false,
        -- The credential sent with outbound copies: it must be replayed, so it is encrypted
        -- (PhiCipher, bound to site and integration id), never hashed.
        outbound_key_ciphertext bytea,
        enabled boolean NOT NULL DEFAULT true,
        rate_limit_per_second integer CHECK (rate_limit_per_second > 0),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (site_number, name),
        CHECK (NOT send_copies OR request_url IS NOT NULL)
      )`,
    `
      CREATE TABLE "${s}".integration_keys (
        id uuid PRIMARY KEY,
        integration_id uuid NOT NULL REFERENCES "${s}".integrations (id),
        site_number text NOT NULL,
        key_hash bytea NOT NULL UNIQUE,
        key_hint text NOT NULL,
        origin text NOT NULL CHECK (origin IN ('generated', 'supplied')),
        created_at timestamptz NOT NULL DEFAULT now(),
        -- Set on rotation: the old key keeps working until then (overlap window).
        expires_at timestamptz
      )`,
    `CREATE INDEX integration_keys_by_integration ON "${s}".integration_keys (integration_id)`,
  ],
  down: dropTables('integration_keys', 'integrations'),
});
