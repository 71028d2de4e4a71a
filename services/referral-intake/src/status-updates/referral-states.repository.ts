import { schemaTables, type SchemaTables } from '@cloud-connect/db';
import type { Db } from '../integrations/integrations.repository';
import type { StatusChange } from '../fhir-messages/status-change';

type Row = Record<string, unknown>;

export interface AppliedBy {
  messageId: string;
  /** The message's own timestamp, or when we received it. */
  messageTimestamp: string;
  changedBy: string;
}

/**
 * The only SQL on `referral_states` and `referral_appointments`; every method takes the site
 * number. An upsert applies only when the message is not older than the one that set the current
 * state, so a late, older message cannot undo a newer one.
 */
export class ReferralStatesRepository {
  private readonly tables: SchemaTables<'states' | 'appointments' | 'referrals'>;

  constructor(schema: string) {
    this.tables = schemaTables(schema, {
      states: 'referral_states',
      appointments: 'referral_appointments',
      referrals: 'referrals',
    });
  }

  /** True when the site holds a referral (a stored ServiceRequest) with this id. */
  /**
   * Who sent the referral (the ServiceRequest's first message of `events` at the site): its
   * integration id (null when not sent by an integration), or null when the site has no such referral.
   */
  async referralOrigin(
    db: Db,
    siteNumber: string,
    serviceRequestId: string,
    events: string[],
  ): Promise<{ integrationId: string | null } | null> {
    const rows: Row[] = await db.query(
      `SELECT integration_id FROM ${this.tables.referrals}
        WHERE site_number = $1 AND service_request_id = $2 AND event_code = ANY($3)
        ORDER BY received_at, id LIMIT 1`,
      [siteNumber, serviceRequestId, events],
    );
    const row = rows[0];
    if (!row) return null;
    return { integrationId: typeof row['integration_id'] === 'string' ? row['integration_id'] : null };
  }

  /** Applies a referral status; false when a newer message already set it. */
  async applyStatus(
    tx: Db,
    siteNumber: string,
    change: Extract<StatusChange, { kind: 'referral-status' }>,
    by: AppliedBy,
  ): Promise<boolean> {
    const rows: Row[] = await tx.query(
      `INSERT INTO ${this.tables.states} AS s (site_number, service_request_id, status, task_status, business_status,
              message_id, message_timestamp, changed_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8)
       ON CONFLICT (site_number, service_request_id) DO UPDATE
          SET status = EXCLUDED.status, task_status = EXCLUDED.task_status,
              business_status = EXCLUDED.business_status, message_id = EXCLUDED.message_id,
              message_timestamp = EXCLUDED.message_timestamp, changed_by = EXCLUDED.changed_by,
              changed_at = now()
        WHERE s.message_timestamp <= EXCLUDED.message_timestamp
       RETURNING 1`,
      [
        siteNumber,
        change.serviceRequestId,
        change.status,
        change.taskStatus ?? null,
        change.businessStatus ?? null,
        by.messageId,
        by.messageTimestamp,
        by.changedBy,
      ],
    );
    return rows.length > 0;
  }

  /** Applies an appointment's state; false when a newer message already set it. */
  async applyAppointment(
    tx: Db,
    siteNumber: string,
    change: Extract<StatusChange, { kind: 'appointment' }>,
    by: AppliedBy,
  ): Promise<boolean> {
    const rows: Row[] = await tx.query(
      `INSERT INTO ${this.tables.appointments} AS a (site_number, appointment_id, service_request_id, status,
              starts_at, ends_at, message_id, message_timestamp, changed_by)
       VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz, $7, $8::timestamptz, $9)
       ON CONFLICT (site_number, appointment_id) DO UPDATE
          SET service_request_id = coalesce(EXCLUDED.service_request_id, a.service_request_id),
              status = EXCLUDED.status, starts_at = coalesce(EXCLUDED.starts_at, a.starts_at),
              ends_at = coalesce(EXCLUDED.ends_at, a.ends_at), message_id = EXCLUDED.message_id,
              message_timestamp = EXCLUDED.message_timestamp, changed_by = EXCLUDED.changed_by,
              changed_at = now()
        WHERE a.message_timestamp <= EXCLUDED.message_timestamp
       RETURNING 1`,
      [
        siteNumber,
        change.appointmentId,
        change.serviceRequestId,
        change.status,
        change.start ?? null,
        change.end ?? null,
        by.messageId,
        by.messageTimestamp,
        by.changedBy,
      ],
    );
    return rows.length > 0;
  }

  /**
   * Moves the referral's current version to "now" in the pull API's order, so integrators polling
   * with `_lastUpdated=gt...` see the change.
   */
  async touchReferral(tx: Db, siteNumber: string, serviceRequestId: string, events: string[]): Promise<void> {
    await tx.query(
      `UPDATE ${this.tables.referrals} SET last_updated = clock_timestamp()
        WHERE id = (SELECT id FROM ${this.tables.referrals}
                     WHERE site_number = $1 AND service_request_id = $2 AND event_code = ANY($3)
                     ORDER BY last_updated DESC, id DESC LIMIT 1)`,
      [siteNumber, serviceRequestId, events],
    );
  }
}
