import { assertIdentifier } from '@cloud-connect/db';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { pagingConditions } from './referral-reads.repository';
import type { DateCondition } from './search-params';

type Db = Pick<EntityManager, 'query'>;
type Row = Record<string, unknown>;

export interface SyncedAppointmentRow {
  id: string;
  appointmentId: string;
  patientKey: string;
  /** last_updated with microseconds, ISO 8601 UTC (the paging key; also meta.lastUpdated). */
  lastUpdated: string;
  sealed: Buffer;
}

const ISO_US = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
const COLUMNS = `id, appointment_id, patient_key, to_char(last_updated AT TIME ZONE 'UTC', ${ISO_US}) AS lu, sealed`;

/** The only SQL on `synced_appointments`; every method takes the site number. */
export class SyncedAppointmentsRepository {
  private readonly table: string;

  constructor(schema: string) {
    this.table = `"${assertIdentifier(schema)}".synced_appointments`;
  }

  /**
   * Stores an appointment as synced: a new one, or a changed one (its content hash differs) with
   * a new `last_updated`; an unchanged one is left as it is. True when a row was written.
   */
  async upsert(
    db: Db,
    siteNumber: string,
    row: { appointmentId: string; patientKey: string; contentMac: string; sealed: Buffer },
  ): Promise<boolean> {
    const rows: Row[] = await db.query(
      `INSERT INTO ${this.table} AS t (id, site_number, appointment_id, patient_key, content_mac, sealed)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (site_number, appointment_id) DO UPDATE
          SET patient_key = excluded.patient_key, content_mac = excluded.content_mac,
              sealed = excluded.sealed, last_updated = clock_timestamp()
        WHERE t.content_mac <> excluded.content_mac
       RETURNING id`,
      [randomUUID(), siteNumber, row.appointmentId, row.patientKey, row.contentMac, row.sealed],
    );
    return rows.length > 0;
  }

  /** The site's appointments up to `snapshot`, ordered by (last_updated, id) after `after`. */
  async page(
    db: Db,
    siteNumber: string,
    query: {
      snapshot: string;
      after: { lastUpdated: string; id: string } | null;
      ids: string[] | null;
      lastUpdated: DateCondition[];
      limit: number;
    },
  ): Promise<SyncedAppointmentRow[]> {
    const params: unknown[] = [siteNumber, query.snapshot, query.ids];
    const where = [
      'site_number = $1',
      'last_updated <= $2::timestamptz',
      '($3::text[] IS NULL OR id::text = ANY($3))',
      ...pagingConditions(params, query.lastUpdated, query.after),
    ];
    params.push(query.limit);
    const rows: Row[] = await db.query(
      `SELECT ${COLUMNS} FROM ${this.table} WHERE ${where.join(' AND ')}
        ORDER BY last_updated, id LIMIT $${params.length}`,
      params,
    );
    return rows.map(toRow);
  }

  /** One appointment of the site by its FHIR id. */
  async byId(db: Db, siteNumber: string, id: string): Promise<SyncedAppointmentRow | null> {
    const rows: Row[] = await db.query(
      `SELECT ${COLUMNS} FROM ${this.table} WHERE site_number = $1 AND id::text = $2`,
      [siteNumber, id],
    );
    return rows[0] ? toRow(rows[0]) : null;
  }

  /** The newest appointment of the site for a patient (its FHIR Patient id's key). */
  async latestOfPatient(
    db: Db,
    siteNumber: string,
    patientKey: string,
  ): Promise<SyncedAppointmentRow | null> {
    const rows: Row[] = await db.query(
      `SELECT ${COLUMNS} FROM ${this.table} WHERE site_number = $1 AND patient_key = $2
        ORDER BY last_updated DESC, id DESC LIMIT 1`,
      [siteNumber, patientKey],
    );
    return rows[0] ? toRow(rows[0]) : null;
  }
}

function toRow(r: Row): SyncedAppointmentRow {
  return {
    id: String(r['id']),
    appointmentId: String(r['appointment_id']),
    patientKey: String(r['patient_key']),
    lastUpdated: String(r['lu']),
    sealed: r['sealed'] as Buffer,
  };
}
