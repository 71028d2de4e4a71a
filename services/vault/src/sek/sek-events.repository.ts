import { schemaOf } from '@cloud-connect/db';
import type { EntityManager } from 'typeorm';

export interface SekEventRow {
  kvVersion: number | null;
  action: 'stored' | 'replaced' | 'removed' | 'restored' | 'destroyed';
  actor: string;
  createdAt: string;
}

/** The only SQL on `sek_events`; every method takes the site number. */
export class SekEventsRepository {
  async record(
    tx: EntityManager,
    siteNumber: string,
    event: { kvVersion: number | null; action: SekEventRow['action']; actor: string },
  ): Promise<void> {
    const s = schemaOf(tx.connection);
    await tx.query(
      `INSERT INTO "${s}".sek_events (site_number, kv_version, action, actor) VALUES ($1, $2, $3, $4)`,
      [siteNumber, event.kvVersion, event.action, event.actor],
    );
  }

  async list(tx: EntityManager, siteNumber: string): Promise<SekEventRow[]> {
    const s = schemaOf(tx.connection);
    const rows: {
      kv_version: number | null;
      action: SekEventRow['action'];
      actor: string;
      created_at: Date;
    }[] = await tx.query(
      `SELECT kv_version, action, actor, created_at FROM "${s}".sek_events WHERE site_number = $1 ORDER BY id`,
      [siteNumber],
    );
    return rows.map((r) => ({
      kvVersion: r.kv_version,
      action: r.action,
      actor: r.actor,
      createdAt: r.created_at.toISOString(),
    }));
  }
}
