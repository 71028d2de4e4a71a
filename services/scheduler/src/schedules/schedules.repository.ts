import { schemaTables, type SchemaTables } from '@cloud-connect/db';
import type { EntityManager } from 'typeorm';

type Db = Pick<EntityManager, 'query'>;
type Row = Record<string, unknown>;

export type ScheduleKind = 'sync-recent' | 'sync-full';

export interface Schedule {
  siteNumber: string;
  kind: ScheduleKind;
  timezone: string;
  nextRunAt: Date;
  lastRunAt: Date | null;
  lastSlotAt: Date | null;
  lastRequestId: string | null;
  runs: number;
  lastRunner: string | null;
}

function toSchedule(r: Row): Schedule {
  return {
    siteNumber: String(r['site_number']),
    kind: r['kind'] as ScheduleKind,
    timezone: String(r['timezone']),
    nextRunAt: r['next_run_at'] as Date,
    lastRunAt: (r['last_run_at'] as Date | null) ?? null,
    lastSlotAt: (r['last_slot_at'] as Date | null) ?? null,
    lastRequestId: (r['last_request_id'] as string | null) ?? null,
    runs: Number(r['runs']),
    lastRunner: (r['last_runner'] as string | null) ?? null,
  };
}

/** The only SQL on `schedules`. */
export class SchedulesRepository {
  private readonly tables: SchemaTables<'schedules' | 'sites'>;

  constructor(schema: string) {
    this.tables = schemaTables(schema, { schedules: 'schedules', sites: 'site_replica' });
  }

  /** The database clock (every replica decides on the same clock). */
  async now(db: Db): Promise<Date> {
    const rows: Row[] = await db.query(`SELECT clock_timestamp() AS now`);
    return rows[0]?.['now'] as Date;
  }

  /** Sites of the directory without schedules yet, or whose time zone changed. Across sites. */
  async sitesToSchedule(db: Db): Promise<{ siteNumber: string; timezone: string }[]> {
    const rows: Row[] = await db.query(
      `SELECT r.site_number, r.timezone FROM ${this.tables.sites} r
         LEFT JOIN ${this.tables.schedules} s ON s.site_number = r.site_number AND s.kind = 'sync-full'
        WHERE s.site_number IS NULL OR s.timezone <> r.timezone`,
    );
    return rows.map((r) => ({ siteNumber: String(r['site_number']), timezone: String(r['timezone']) }));
  }

  /** Creates the schedule, or moves it to a new time zone (and its next slot with it). */
  async upsert(
    db: Db,
    siteNumber: string,
    kind: ScheduleKind,
    timezone: string,
    nextRunAt: Date,
  ): Promise<void> {
    await db.query(
      `INSERT INTO ${this.tables.schedules} (site_number, kind, timezone, next_run_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (site_number, kind) DO UPDATE SET timezone = EXCLUDED.timezone,
         next_run_at = CASE WHEN ${this.tables.schedules}.timezone = EXCLUDED.timezone THEN ${this.tables.schedules}.next_run_at ELSE EXCLUDED.next_run_at END`,
      [siteNumber, kind, timezone, nextRunAt],
    );
  }

  /**
   * Due schedules of any site, locked for this transaction; rows another replica holds are
   * skipped (`FOR UPDATE SKIP LOCKED`), so each slot fires in exactly one replica.
   */
  async lockDue(tx: Db, limit: number): Promise<Schedule[]> {
    const rows: Row[] = await tx.query(
      `SELECT * FROM ${this.tables.schedules} WHERE next_run_at <= clock_timestamp()
        ORDER BY next_run_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    return rows.map(toSchedule);
  }

  async markRan(
    tx: Db,
    siteNumber: string,
    kind: ScheduleKind,
    run: { slotAt: Date; ranAt: Date; nextRunAt: Date; requestId: string; runner: string },
  ): Promise<void> {
    await tx.query(
      `UPDATE ${this.tables.schedules} SET last_slot_at = $3, last_run_at = $4, next_run_at = $5, last_request_id = $6,
              last_runner = $7, runs = runs + 1
        WHERE site_number = $1 AND kind = $2`,
      [siteNumber, kind, run.slotAt, run.ranAt, run.nextRunAt, run.requestId, run.runner],
    );
  }

  async list(db: Db, siteNumber: string): Promise<Schedule[]> {
    const rows: Row[] = await db.query(
      `SELECT * FROM ${this.tables.schedules} WHERE site_number = $1 ORDER BY kind DESC`,
      [siteNumber],
    );
    return rows.map(toSchedule);
  }
}
