import { MessagingTables1732300000000, dropTables, sqlMigration } from '@cloud-connect/db';
import { SiteReplicaTable1732300000100 } from '@cloud-connect/service-kit';
import { EmrChartColumns1732300006100 } from './chart/chart.migration';
import { EmrWriteIntent1732300014200 } from './commands/write-intent.migration';
import { SyncNextFull1732300014100 } from './sync/sync-next-full.migration';

/**
 * The gateway's tables. No credentials (those are in Vault) and no plaintext PHI: command content
 * stays sealed as it arrived; patient keys are opaque producer keys.
 */
export const EmrGatewayTables1732300006000 = sqlMigration('EmrGatewayTables1732300006000', {
  up: (s) => [
    `
      CREATE TABLE "${s}".emr_connections (
        site_number text PRIMARY KEY,
        emr_type text NOT NULL,
        status text NOT NULL CHECK (status IN ('connected', 'deauthorized', 'disconnected')),
        vault_version integer,
        providers jsonb NOT NULL DEFAULT '[]',
        last_error text,
        connected_at timestamptz,
        deauthorized_at timestamptz,
        delivery_failing_since timestamptz,
        last_alert_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
    `
      CREATE TABLE "${s}".emr_settings (
        site_number text NOT NULL,
        version integer NOT NULL,
        settings jsonb NOT NULL,
        changed_by text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (site_number, version)
      )`,
    `
      CREATE TABLE "${s}".emr_commands (
        command_id uuid PRIMARY KEY,
        site_number text NOT NULL,
        patient_key text NOT NULL,
        seq bigserial NOT NULL,
        occurred_at timestamptz NOT NULL,
        kind text NOT NULL,
        sealed jsonb,
        sitting_id text,
        sitting_index integer,
        sitting_total integer,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'skipped', 'dead')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        first_failed_at timestamptz,
        last_error text,
        received_at timestamptz NOT NULL DEFAULT now(),
        applied_at timestamptz,
        emr_record_id text,
        combined_into text
      )`,
    `CREATE INDEX emr_commands_pending ON "${s}".emr_commands (site_number, patient_key, occurred_at, seq) WHERE status = 'pending'`,
    `CREATE INDEX emr_commands_sitting ON "${s}".emr_commands (site_number, sitting_id) WHERE sitting_id IS NOT NULL`,
    `
      CREATE TABLE "${s}".emr_sync_status (
        site_number text PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('idle', 'syncing')),
        last_scope text,
        last_request_id uuid,
        last_started_at timestamptz,
        last_success_at timestamptz,
        last_error text,
        last_appointments integer,
        provider_problems jsonb NOT NULL DEFAULT '[]',
        next_due_at timestamptz
      )`,
  ],
  down: dropTables('emr_sync_status', 'emr_commands', 'emr_settings', 'emr_connections'),
});

export const EMR_GATEWAY_MIGRATIONS = [
  MessagingTables1732300000000,
  SiteReplicaTable1732300000100,
  EmrGatewayTables1732300006000,
  EmrChartColumns1732300006100,
  SyncNextFull1732300014100,
  EmrWriteIntent1732300014200,
];
