import { dropTables, sqlMigration } from '@cloud-connect/db';

/** The delivery log: one row per notification, its state and attempts. */
export const Deliveries1732300006000 = sqlMigration('Deliveries1732300006000', {
  up: (s) => [
    `
      CREATE TABLE "${s}".deliveries (
        notification_id uuid PRIMARY KEY,
        site_number text NOT NULL,
        channel text NOT NULL CHECK (channel IN ('email', 'sms')),
        template text NOT NULL,
        locale text NOT NULL,
        recipient text NOT NULL,
        status text NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'dead-lettered')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        provider_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      )`,
    `CREATE INDEX deliveries_site_status ON "${s}".deliveries (site_number, status)`,
  ],
  down: dropTables('deliveries'),
});

/** SMS delivery receipts (the provider's status callbacks) and numbers that replied STOP (HMACs). */
export const SmsReceipts1732300014200 = sqlMigration('SmsReceipts1732300014200', {
  up: (s) => [
    `ALTER TABLE "${s}".deliveries ADD COLUMN provider_status text, ADD COLUMN provider_error text`,
    `
      CREATE TABLE "${s}".sms_opt_outs (
        phone_key text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
  ],
  down: (s) => [
    `DROP TABLE "${s}".sms_opt_outs`,
    `ALTER TABLE "${s}".deliveries DROP COLUMN provider_status, DROP COLUMN provider_error`,
  ],
});
