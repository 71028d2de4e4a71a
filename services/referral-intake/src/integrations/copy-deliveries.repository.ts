import { schemaTables, type SchemaTables } from '@cloud-connect/db';
import type { Db } from './integrations.repository';

export interface DeliveryView {
  id: string;
  referralId: string;
  integrationId: string;
  status: 'pending' | 'in-flight' | 'delivered' | 'dead-lettered';
  attempts: number;
  nextAttemptAt: string;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

export interface ClaimedDelivery {
  id: string;
  siteNumber: string;
  referralId: string;
  integrationId: string;
  attempts: number;
}

type Row = Record<string, unknown>;
const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

/**
 * The only SQL on `copy_deliveries` (the delivery log and queue). Site-scoped, except `claimDue`:
 * the delivery worker serves every site.
 */
export class CopyDeliveriesRepository {
  private readonly tables: SchemaTables<'deliveries' | 'referrals'>;

  constructor(schema: string) {
    this.tables = schemaTables(schema, { deliveries: 'copy_deliveries', referrals: 'referrals' });
  }

  async enqueue(
    tx: Db,
    siteNumber: string,
    referralId: string,
    integrationId: string,
    id: string,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.tables.deliveries} (id, site_number, referral_id, integration_id, status)
       VALUES ($1, $2, $3, $4, 'pending') ON CONFLICT (referral_id, integration_id) DO NOTHING`,
      [id, siteNumber, referralId, integrationId],
    );
  }

  /**
   * Claims due deliveries for `leaseMs` (SKIP LOCKED: replicas never take the same row). A row
   * whose lease ran out (its worker died mid-POST) is due again.
   */
  /** The stored (encrypted) bundle of the referral a delivery copies. */
  async bundleCiphertext(db: Db, siteNumber: string, referralId: string): Promise<Buffer | null> {
    const rows: Row[] = await db.query(
      `SELECT bundle_ciphertext FROM ${this.tables.referrals} WHERE site_number = $1 AND id = $2`,
      [siteNumber, referralId],
    );
    return (rows[0]?.['bundle_ciphertext'] as Buffer | undefined) ?? null;
  }

  async claimDue(db: Db, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const rows: Row[] = await db.query(
      `UPDATE ${this.tables.deliveries} d SET status = 'in-flight', attempts = d.attempts + 1,
              lease_until = now() + ($2::int * interval '1 millisecond'), updated_at = now()
        WHERE d.id IN (
          SELECT id FROM ${this.tables.deliveries}
           WHERE (status = 'pending' AND next_attempt_at <= now()) OR (status = 'in-flight' AND lease_until < now())
           ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d.site_number, d.referral_id, d.integration_id, d.attempts`,
      [limit, leaseMs],
    );
    // TypeORM answers an UPDATE ... RETURNING with [rows, count].
    const list = (Array.isArray(rows[0]) ? rows[0] : rows) as Row[];
    return list.map((r) => ({
      id: String(r['id']),
      siteNumber: String(r['site_number']),
      referralId: String(r['referral_id']),
      integrationId: String(r['integration_id']),
      attempts: Number(r['attempts']),
    }));
  }

  async markDelivered(db: Db, siteNumber: string, id: string, status: number): Promise<void> {
    await db.query(
      `UPDATE ${this.tables.deliveries} SET status = 'delivered', last_status = $3, last_error = NULL, lease_until = NULL,
              delivered_at = now(), updated_at = now() WHERE site_number = $1 AND id = $2`,
      [siteNumber, id, status],
    );
  }

  async markFailed(
    db: Db,
    siteNumber: string,
    id: string,
    failure: { status: number | null; error: string; retryInMs: number | null },
  ): Promise<void> {
    await db.query(
      `UPDATE ${this.tables.deliveries}
          SET status = CASE WHEN $5::int IS NULL THEN 'dead-lettered' ELSE 'pending' END,
              next_attempt_at = now() + (COALESCE($5::int, 0) * interval '1 millisecond'),
              last_status = $3, last_error = $4, lease_until = NULL, updated_at = now()
        WHERE site_number = $1 AND id = $2`,
      [siteNumber, id, failure.status, failure.error.slice(0, 500), failure.retryInMs],
    );
  }

  /** Dead letters of the integration (or one of them) go back to the queue with a fresh attempt count. */
  async replay(
    tx: Db,
    siteNumber: string,
    integrationId: string,
    deliveryId: string | null,
  ): Promise<string[]> {
    const result: [Row[], number] = await tx.query(
      `UPDATE ${this.tables.deliveries} SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now()
        WHERE site_number = $1 AND integration_id = $2 AND status = 'dead-lettered' AND ($3::uuid IS NULL OR id = $3::uuid)
        RETURNING id`,
      [siteNumber, integrationId, deliveryId],
    );
    return result[0].map((r) => String(r['id']));
  }

  async list(db: Db, siteNumber: string, integrationId: string, limit = 200): Promise<DeliveryView[]> {
    const rows: Row[] = await db.query(
      `SELECT id, referral_id, integration_id, status, attempts, next_attempt_at, last_status, last_error, created_at, delivered_at
         FROM ${this.tables.deliveries} WHERE site_number = $1 AND integration_id = $2 ORDER BY created_at DESC LIMIT $3`,
      [siteNumber, integrationId, limit],
    );
    return rows.map((r) => ({
      id: String(r['id']),
      referralId: String(r['referral_id']),
      integrationId: String(r['integration_id']),
      status: r['status'] as DeliveryView['status'],
      attempts: Number(r['attempts']),
      nextAttemptAt: iso(r['next_attempt_at']),
      lastStatus: r['last_status'] === null ? null : Number(r['last_status']),
      lastError: typeof r['last_error'] === 'string' ? r['last_error'] : null,
      createdAt: iso(r['created_at']),
      deliveredAt: r['delivered_at'] === null ? null : iso(r['delivered_at']),
    }));
  }
}
