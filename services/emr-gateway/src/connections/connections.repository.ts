import type { EntityManager } from 'typeorm';
import type { EmrType } from '../adapters/emr-adapter';
import type { EmrProvider } from '../adapters/emr-records';

export type ConnectionStatus = 'connected' | 'deauthorized' | 'disconnected';

export interface ConnectionRow {
  siteNumber: string;
  emrType: EmrType;
  status: ConnectionStatus;
  vaultVersion: number | null;
  providers: EmrProvider[];
  lastError: string | null;
  connectedAt: Date | null;
  deauthorizedAt: Date | null;
  deliveryFailingSince: Date | null;
  lastAlertAt: Date | null;
}

type Db = Pick<EntityManager, 'query'>;

function toRow(r: Record<string, unknown>): ConnectionRow {
  return {
    siteNumber: String(r['site_number']),
    emrType: r['emr_type'] as EmrType,
    status: r['status'] as ConnectionStatus,
    vaultVersion: (r['vault_version'] as number | null) ?? null,
    providers: (r['providers'] as EmrProvider[] | null) ?? [],
    lastError: (r['last_error'] as string | null) ?? null,
    connectedAt: (r['connected_at'] as Date | null) ?? null,
    deauthorizedAt: (r['deauthorized_at'] as Date | null) ?? null,
    deliveryFailingSince: (r['delivery_failing_since'] as Date | null) ?? null,
    lastAlertAt: (r['last_alert_at'] as Date | null) ?? null,
  };
}

/** The only way to `emr_connections`: every method takes the site number. */
export class ConnectionsRepository {
  constructor(private readonly schema: string) {}

  private get t(): string {
    return `"${this.schema}".emr_connections`;
  }

  async find(db: Db, siteNumber: string, lock = false): Promise<ConnectionRow | null> {
    const rows: Record<string, unknown>[] = await db.query(
      `SELECT * FROM ${this.t} WHERE site_number = $1${lock ? ' FOR UPDATE' : ''}`,
      [siteNumber],
    );
    return rows[0] ? toRow(rows[0]) : null;
  }

  async saveConnected(
    db: Db,
    siteNumber: string,
    emrType: EmrType,
    vaultVersion: number,
    providers: EmrProvider[],
  ): Promise<void> {
    await db.query(
      `INSERT INTO ${this.t} (site_number, emr_type, status, vault_version, providers, last_error, connected_at, deauthorized_at, updated_at)
       VALUES ($1, $2, 'connected', $3, $4, NULL, now(), NULL, now())
       ON CONFLICT (site_number) DO UPDATE SET emr_type = EXCLUDED.emr_type, status = 'connected',
         vault_version = EXCLUDED.vault_version, providers = EXCLUDED.providers, last_error = NULL,
         connected_at = now(), deauthorized_at = NULL, updated_at = now()`,
      [siteNumber, emrType, vaultVersion, JSON.stringify(providers)],
    );
  }

  async setProviders(db: Db, siteNumber: string, providers: EmrProvider[]): Promise<void> {
    await db.query(`UPDATE ${this.t} SET providers = $2, updated_at = now() WHERE site_number = $1`, [
      siteNumber,
      JSON.stringify(providers),
    ]);
  }

  /** Marks the connection deauthorized; true if this call changed it (so exactly one alert goes out). */
  async markDeauthorized(db: Db, siteNumber: string, reason: string): Promise<boolean> {
    const rows: unknown[] = await db.query(
      `UPDATE ${this.t} SET status = 'deauthorized', deauthorized_at = now(), last_error = $2, last_alert_at = now(), updated_at = now()
       WHERE site_number = $1 AND status = 'connected' RETURNING site_number`,
      [siteNumber, reason],
    );
    return rowCount(rows) > 0;
  }

  async markDisconnected(db: Db, siteNumber: string): Promise<void> {
    await db.query(
      `UPDATE ${this.t} SET status = 'disconnected', vault_version = NULL, updated_at = now() WHERE site_number = $1`,
      [siteNumber],
    );
  }

  /**
   * Records a delivery failure. True if an outage began now and the clinic has not been alerted
   * within `quietMs` (a flapping EMR does not send an e-mail per blip): send the first alert.
   */
  async startDeliveryFailure(db: Db, siteNumber: string, reason: string, quietMs: number): Promise<boolean> {
    const rows: unknown[] = await db.query(
      `UPDATE ${this.t} SET delivery_failing_since = now(), last_error = $2, updated_at = now(),
         last_alert_at = CASE WHEN last_alert_at IS NULL OR last_alert_at < now() - ($3::bigint * interval '1 millisecond')
           THEN now() ELSE last_alert_at END
       WHERE site_number = $1 AND delivery_failing_since IS NULL RETURNING last_alert_at = now() AS alert`,
      [siteNumber, reason, quietMs],
    );
    return (rowList(rows)[0] as { alert?: boolean } | undefined)?.alert === true;
  }

  /** Claims the daily reminder if one is due; true if this caller should send it. */
  async claimReminder(db: Db, siteNumber: string, reminderMs: number): Promise<boolean> {
    const rows: unknown[] = await db.query(
      `UPDATE ${this.t} SET last_alert_at = now()
       WHERE site_number = $1 AND delivery_failing_since IS NOT NULL
         AND last_alert_at < now() - ($2::bigint * interval '1 millisecond') RETURNING site_number`,
      [siteNumber, reminderMs],
    );
    return rowCount(rows) > 0;
  }

  async clearDeliveryFailure(db: Db, siteNumber: string): Promise<void> {
    await db.query(
      `UPDATE ${this.t} SET delivery_failing_since = NULL, last_error = NULL, updated_at = now()
       WHERE site_number = $1 AND delivery_failing_since IS NOT NULL`,
      [siteNumber],
    );
  }
}

/** pg returns [rows, count] for UPDATE ... RETURNING through TypeORM's query(). */
function rowList(result: unknown[]): unknown[] {
  return Array.isArray(result[0]) ? (result[0] as unknown[]) : result;
}

function rowCount(result: unknown[]): number {
  return rowList(result).length;
}
