import { schemaOf } from '@cloud-connect/db';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The delivery log: one row per notification, its state and attempts. */
export class Deliveries1732300006000 implements MigrationInterface {
  name = 'Deliveries1732300006000';

  async up(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(`
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
      )`);
    await runner.query(`CREATE INDEX deliveries_site_status ON "${s}".deliveries (site_number, status)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "${schemaOf(runner)}".deliveries`);
  }
}

/** SMS delivery receipts (the provider's status callbacks) and numbers that replied STOP (HMACs). */
export class SmsReceipts1732300014200 implements MigrationInterface {
  name = 'SmsReceipts1732300014200';

  async up(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(
      `ALTER TABLE "${s}".deliveries ADD COLUMN provider_status text, ADD COLUMN provider_error text`,
    );
    await runner.query(`
      CREATE TABLE "${s}".sms_opt_outs (
        phone_key text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const s = schemaOf(runner);
    await runner.query(`DROP TABLE "${s}".sms_opt_outs`);
    await runner.query(
      `ALTER TABLE "${s}".deliveries DROP COLUMN provider_status, DROP COLUMN provider_error`,
    );
  }
}
