import { dropTables, sqlMigration } from '@cloud-connect/db';

/** One row per (referral, integration) copy: the delivery log and the retry queue in one. */
export const CopyDeliveries1732300003200 = sqlMigration('CopyDeliveries1732300003200', {
  up: (s) => [
    `
      CREATE TABLE "${s}".copy_deliveries (
        id uuid PRIMARY KEY,
        site_number text NOT NULL,
        referral_id uuid NOT NULL REFERENCES "${s}".referrals (id),
        integration_id uuid NOT NULL REFERENCES "${s}".integrations (id),
        status text NOT NULL CHECK (status IN ('pending', 'in-flight', 'delivered', 'dead-lettered')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        last_status integer,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        UNIQUE (referral_id, integration_id)
      )`,
    `CREATE INDEX copy_deliveries_due ON "${s}".copy_deliveries (next_attempt_at) WHERE status IN ('pending', 'in-flight')`,
    `CREATE INDEX copy_deliveries_by_integration ON "${s}".copy_deliveries (site_number, integration_id, created_at)`,
  ],
  down: dropTables('copy_deliveries'),
});
