import { schemaTables, type SchemaTables } from '@cloud-connect/db';
import { referralStatusChangedV1 } from '@cloud-connect/contracts';
import type { ServiceRequest } from '@medplum/fhirtypes';
import type { EntityManager } from 'typeorm';
import { SERVICE_REQUEST_EVENTS } from '../fhir-messages/ereferral-rules';
import type { DateCondition } from './search-params';

type Db = Pick<EntityManager, 'query'>;
type Row = Record<string, unknown>;

export interface ReferralVersion {
  referralId: string;
  serviceRequestId: string;
  bundleId: string;
  /** last_updated with microseconds, ISO 8601 UTC (the paging key; also meta.lastUpdated). */
  lastUpdated: string;
  ciphertext: Buffer;
  /**
   * The status its receiver set through status back (referral_states), when that is newer than
   * this version: laid over the stored ServiceRequest's own status.
   */
  statusOverride: ServiceRequest['status'] | null;
}

/** referral_states holds statuses of the event contract, which are R4 ServiceRequest.status codes. */
const SERVICE_REQUEST_STATUS = referralStatusChangedV1.shape.status;

export interface PageKey {
  lastUpdated: string;
  referralId: string;
}

const ISO_US = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/**
 * Read-only SQL on intake's `referrals` table for the FHIR pull API; every query is
 * filtered by site number.
 */
export class ReferralReadsRepository {
  private readonly tables: SchemaTables<'referrals' | 'states'>;

  constructor(schema: string) {
    this.tables = schemaTables(schema, { referrals: 'referrals', states: 'referral_states' });
  }

  /** The override column of a version row `r` (joined to its state `st`). */
  private static readonly OVERRIDE = `CASE WHEN st.changed_at > r.received_at THEN st.status END AS status_override`;

  /** The database clock minus `lagMs`: the upper bound a paging session sees. */
  async snapshot(db: Db, lagMs: number): Promise<string> {
    const rows: Row[] = await db.query(
      `SELECT to_char((clock_timestamp() - make_interval(secs => $1::double precision / 1000)) AT TIME ZONE 'UTC', ${ISO_US}) AS snap`,
      [lagMs],
    );
    return String(rows[0]?.['snap']);
  }

  /**
   * The current version of each ServiceRequest (its newest message up to `snapshot`), ordered by
   * (last_updated, id) after `after`, at most `limit`.
   */
  async page(
    db: Db,
    siteNumber: string,
    query: {
      snapshot: string;
      after: PageKey | null;
      ids: string[] | null;
      lastUpdated: DateCondition[];
      limit: number;
    },
  ): Promise<ReferralVersion[]> {
    const params: unknown[] = [siteNumber, SERVICE_REQUEST_EVENTS, query.snapshot, query.ids];
    const where = pagingConditions(
      params,
      query.lastUpdated,
      query.after ? { lastUpdated: query.after.lastUpdated, id: query.after.referralId } : null,
    );
    params.push(query.limit);
    const rows: Row[] = await db.query(
      `WITH current AS (
         SELECT DISTINCT ON (service_request_id) id, site_number, service_request_id, bundle_id, last_updated,
                received_at, bundle_ciphertext
           FROM ${this.tables.referrals}
          WHERE site_number = $1 AND service_request_id IS NOT NULL AND event_code = ANY($2)
            AND last_updated <= $3::timestamptz AND ($4::text[] IS NULL OR service_request_id = ANY($4))
          ORDER BY service_request_id, last_updated DESC, id DESC)
       -- (the filters name last_updated and id unqualified: referral_states has neither column)
       SELECT r.id, r.service_request_id, r.bundle_id, to_char(r.last_updated AT TIME ZONE 'UTC', ${ISO_US}) AS lu,
              r.bundle_ciphertext, ${ReferralReadsRepository.OVERRIDE}
         FROM current r
         LEFT JOIN ${this.tables.states} st
           ON st.site_number = r.site_number AND st.service_request_id = r.service_request_id
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY r.last_updated, r.id LIMIT $${params.length}`,
      params,
    );
    return rows.map(toVersion);
  }

  /** The current version of one ServiceRequest of the site. */
  async current(db: Db, siteNumber: string, serviceRequestId: string): Promise<ReferralVersion | null> {
    const rows: Row[] = await db.query(
      `SELECT r.id, r.service_request_id, r.bundle_id, to_char(r.last_updated AT TIME ZONE 'UTC', ${ISO_US}) AS lu,
              r.bundle_ciphertext, ${ReferralReadsRepository.OVERRIDE}
         FROM ${this.tables.referrals} r
         LEFT JOIN ${this.tables.states} st
           ON st.site_number = r.site_number AND st.service_request_id = r.service_request_id
        WHERE r.site_number = $1 AND r.service_request_id = $2 AND r.event_code = ANY($3)
        ORDER BY r.last_updated DESC, r.id DESC LIMIT 1`,
      [siteNumber, serviceRequestId, SERVICE_REQUEST_EVENTS],
    );
    return rows[0] ? toVersion(rows[0]) : null;
  }

  /** A stored message bundle of the site by its Bundle.id. */
  async byBundleId(db: Db, siteNumber: string, bundleId: string): Promise<ReferralVersion | null> {
    const rows: Row[] = await db.query(
      `SELECT id, coalesce(service_request_id, '') AS service_request_id, bundle_id,
              to_char(last_updated AT TIME ZONE 'UTC', ${ISO_US}) AS lu, bundle_ciphertext,
              NULL AS status_override
         FROM ${this.tables.referrals} WHERE site_number = $1 AND bundle_id = $2`,
      [siteNumber, bundleId],
    );
    return rows[0] ? toVersion(rows[0]) : null;
  }
}

/**
 * The SQL conditions of `_lastUpdated` and of a page's position (after (last_updated, id)) on a
 * table with `last_updated timestamptz` and `id uuid`, appending their values to `params`.
 */
export function pagingConditions(
  params: unknown[],
  lastUpdated: DateCondition[],
  after: { lastUpdated: string; id: string } | null,
): string[] {
  const where: string[] = [];
  const param = (value: string): string => {
    params.push(value);
    return `$${params.length}::timestamptz`;
  };
  for (const c of lastUpdated) {
    const sql = {
      gt: () => (c.point ? `last_updated > ${param(c.start)}` : `last_updated >= ${param(c.end)}`),
      ge: () => `last_updated >= ${param(c.start)}`,
      lt: () => `last_updated < ${param(c.start)}`,
      le: () => (c.point ? `last_updated <= ${param(c.start)}` : `last_updated < ${param(c.end)}`),
      eq: () =>
        c.point
          ? `last_updated = ${param(c.start)}`
          : `last_updated >= ${param(c.start)} AND last_updated < ${param(c.end)}`,
    }[c.prefix]();
    where.push(`(${sql})`);
  }
  if (after) {
    params.push(after.lastUpdated, after.id);
    where.push(`(last_updated, id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  return where;
}

function toVersion(r: Row): ReferralVersion {
  return {
    referralId: String(r['id']),
    serviceRequestId: String(r['service_request_id']),
    bundleId: String(r['bundle_id']),
    lastUpdated: String(r['lu']),
    ciphertext: r['bundle_ciphertext'] as Buffer,
    statusOverride: SERVICE_REQUEST_STATUS.safeParse(r['status_override']).data ?? null,
  };
}
