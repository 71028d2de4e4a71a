import { schemaOf } from '@cloud-connect/db';
import type { EntityManager } from 'typeorm';

export interface SekRemoval {
  versions: number[];
  removedBy: string;
  removedAt: Date;
  recoverableUntil: Date;
  destroyApprovedBy: string | null;
}

/** The only SQL on `sek_removals`; every method takes the site number. */
export class SekRemovalsRepository {
  /** The site's pending removal, locked for the transaction (one change at a time per site). */
  async find(tx: EntityManager, siteNumber: string): Promise<SekRemoval | null> {
    const s = schemaOf(tx.connection);
    const rows: SekRemoval[] = await tx.query(
      `SELECT versions, removed_by AS "removedBy", removed_at AS "removedAt",
              recoverable_until AS "recoverableUntil", destroy_approved_by AS "destroyApprovedBy"
         FROM "${s}".sek_removals WHERE site_number = $1 FOR UPDATE`,
      [siteNumber],
    );
    return rows[0] ?? null;
  }

  /** Records a removal (or widens a pending one): a new window, and any approval is void. */
  async upsert(
    tx: EntityManager,
    siteNumber: string,
    removal: { versions: number[]; removedBy: string; windowSeconds: number },
  ): Promise<Date> {
    const s = schemaOf(tx.connection);
    const rows: { recoverable_until: Date }[] = await tx.query(
      `INSERT INTO "${s}".sek_removals (site_number, versions, removed_by, recoverable_until)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))
         ON CONFLICT (site_number) DO UPDATE SET versions = EXCLUDED.versions, removed_by = EXCLUDED.removed_by,
           removed_at = now(), recoverable_until = EXCLUDED.recoverable_until,
           destroy_approved_by = NULL, destroy_approved_at = NULL
         RETURNING recoverable_until`,
      [siteNumber, removal.versions, removal.removedBy, removal.windowSeconds],
    );
    return (rows[0] as { recoverable_until: Date }).recoverable_until;
  }

  async approve(tx: EntityManager, siteNumber: string, approver: string): Promise<void> {
    const s = schemaOf(tx.connection);
    await tx.query(
      `UPDATE "${s}".sek_removals SET destroy_approved_by = $2, destroy_approved_at = now() WHERE site_number = $1`,
      [siteNumber, approver],
    );
  }

  /** Restored or destroyed: the removal is over. */
  async delete(tx: EntityManager, siteNumber: string): Promise<void> {
    const s = schemaOf(tx.connection);
    await tx.query(`DELETE FROM "${s}".sek_removals WHERE site_number = $1`, [siteNumber]);
  }
}
