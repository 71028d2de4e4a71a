import { assertIdentifier } from '@cloud-connect/db';
import type { EntityManager } from 'typeorm';
import { DEFAULT_POLICY, reminderPolicySchema, type ReminderPolicy } from './reminder-policy';

type Db = Pick<EntityManager, 'query'>;
type Row = Record<string, unknown>;

export type ReminderKind = 'reminder' | 'notice-booked' | 'notice-moved' | 'notice-cancelled';
export type ReminderStatus = 'scheduled' | 'sent' | 'cancelled' | 'failed';

export interface AppointmentRecord {
  siteNumber: string;
  appointmentId: string;
  source: 'referral' | 'emr-sync';
  serviceRequestId: string | null;
  status: string;
  startsAt: Date | null;
  patientRef: string | null;
  patientLocale: 'en' | 'fr' | null;
  patientChannels: ('email' | 'sms')[];
  contactRecordId: string | null;
  /** The vault service's sealed envelope (base64), never contact details in clear. */
  patientContact: string | null;
  messageId: string;
  changedAt: Date;
}

export interface Reminder {
  id: string;
  siteNumber: string;
  appointmentId: string;
  kind: ReminderKind;
  channel: 'email' | 'sms';
  leadMinutes: number | null;
  appointmentStart: Date | null;
  dueAt: Date;
  status: ReminderStatus;
  reason: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

function toAppointment(r: Row): AppointmentRecord {
  return {
    siteNumber: String(r['site_number']),
    appointmentId: String(r['appointment_id']),
    source: r['source'] as AppointmentRecord['source'],
    serviceRequestId: (r['service_request_id'] as string | null) ?? null,
    status: String(r['status']),
    startsAt: (r['starts_at'] as Date | null) ?? null,
    patientRef: (r['patient_ref'] as string | null) ?? null,
    patientLocale: (r['patient_locale'] as 'en' | 'fr' | null) ?? null,
    patientChannels: (r['patient_channels'] as ('email' | 'sms')[] | null) ?? [],
    contactRecordId: (r['contact_record_id'] as string | null) ?? null,
    patientContact: (r['patient_contact'] as string | null) ?? null,
    messageId: String(r['message_id']),
    changedAt: r['changed_at'] as Date,
  };
}

function toReminder(r: Row): Reminder {
  return {
    id: String(r['id']),
    siteNumber: String(r['site_number']),
    appointmentId: String(r['appointment_id']),
    kind: r['kind'] as ReminderKind,
    channel: r['channel'] as 'email' | 'sms',
    leadMinutes: (r['lead_minutes'] as number | null) ?? null,
    appointmentStart: (r['appointment_start'] as Date | null) ?? null,
    dueAt: r['due_at'] as Date,
    status: r['status'] as ReminderStatus,
    reason: (r['reason'] as string | null) ?? null,
    createdAt: r['created_at'] as Date,
    sentAt: (r['sent_at'] as Date | null) ?? null,
  };
}

/** A due reminder with what sending it needs (its appointment and site). */
export interface DueReminder {
  reminder: Reminder;
  appointment: AppointmentRecord;
  site: { name: string; locale: 'en' | 'fr'; timezone: string } | null;
  optedOut: boolean;
}

/** The only SQL on appointments, reminders, reminder_policies and reminder_opt_outs. */
export class RemindersRepository {
  private readonly s: string;

  constructor(schema: string) {
    this.s = `"${assertIdentifier(schema)}"`;
  }

  async findAppointment(
    db: Db,
    siteNumber: string,
    appointmentId: string,
  ): Promise<AppointmentRecord | null> {
    const rows: Row[] = await db.query(
      `SELECT * FROM ${this.s}.appointments WHERE site_number = $1 AND appointment_id = $2 FOR UPDATE`,
      [siteNumber, appointmentId],
    );
    return rows[0] ? toAppointment(rows[0]) : null;
  }

  async saveAppointment(db: Db, a: AppointmentRecord): Promise<void> {
    await db.query(
      `INSERT INTO ${this.s}.appointments (site_number, appointment_id, source, service_request_id, status, starts_at,
              patient_ref, patient_locale, patient_channels, contact_record_id, patient_contact, message_id, changed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (site_number, appointment_id) DO UPDATE SET source = EXCLUDED.source,
              service_request_id = EXCLUDED.service_request_id, status = EXCLUDED.status, starts_at = EXCLUDED.starts_at,
              patient_ref = EXCLUDED.patient_ref, patient_locale = EXCLUDED.patient_locale,
              patient_channels = EXCLUDED.patient_channels, contact_record_id = EXCLUDED.contact_record_id,
              patient_contact = EXCLUDED.patient_contact, message_id = EXCLUDED.message_id,
              changed_at = EXCLUDED.changed_at, updated_at = now()`,
      [
        a.siteNumber,
        a.appointmentId,
        a.source,
        a.serviceRequestId,
        a.status,
        a.startsAt,
        a.patientRef,
        a.patientLocale,
        a.patientChannels,
        a.contactRecordId,
        a.patientContact,
        a.messageId,
        a.changedAt,
      ],
    );
  }

  async scheduledFor(db: Db, siteNumber: string, appointmentId: string): Promise<Reminder[]> {
    const rows: Row[] = await db.query(
      `SELECT * FROM ${this.s}.reminders WHERE site_number = $1 AND appointment_id = $2 AND status = 'scheduled'`,
      [siteNumber, appointmentId],
    );
    return rows.map(toReminder);
  }

  /** Inserts a reminder; an id already there (a replayed plan) is left as it is. */
  async add(
    db: Db,
    r: Pick<
      Reminder,
      | 'id'
      | 'siteNumber'
      | 'appointmentId'
      | 'kind'
      | 'channel'
      | 'leadMinutes'
      | 'appointmentStart'
      | 'dueAt'
    >,
  ): Promise<void> {
    await db.query(
      `INSERT INTO ${this.s}.reminders (id, site_number, appointment_id, kind, channel, lead_minutes, appointment_start, due_at, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'scheduled') ON CONFLICT (id) DO NOTHING`,
      [r.id, r.siteNumber, r.appointmentId, r.kind, r.channel, r.leadMinutes, r.appointmentStart, r.dueAt],
    );
  }

  /** Cancels the appointment's scheduled reminders (not its notices); returns how many. */
  async cancelScheduled(db: Db, siteNumber: string, appointmentId: string, reason: string): Promise<number> {
    const rows: Row[] = await db.query(
      `UPDATE ${this.s}.reminders SET status = 'cancelled', reason = $3, updated_at = now()
        WHERE site_number = $1 AND appointment_id = $2 AND status = 'scheduled' AND kind = 'reminder'
       RETURNING id`,
      [siteNumber, appointmentId, reason],
    );
    return rows.length;
  }

  /** Due reminders of any site, locked for this transaction (other replicas skip them). */
  async lockDue(tx: Db, limit: number): Promise<DueReminder[]> {
    const rows: Row[] = await tx.query(
      `SELECT r.*, to_jsonb(a.*) AS appointment, to_jsonb(sr.*) AS site,
              EXISTS (SELECT 1 FROM ${this.s}.reminder_opt_outs o
                       WHERE o.site_number = r.site_number AND o.patient_ref = a.patient_ref) AS opted_out
         FROM ${this.s}.reminders r
         JOIN ${this.s}.appointments a ON a.site_number = r.site_number AND a.appointment_id = r.appointment_id
         LEFT JOIN ${this.s}.site_replica sr ON sr.site_number = r.site_number
        WHERE r.status = 'scheduled' AND r.due_at <= clock_timestamp()
        ORDER BY r.due_at LIMIT $1 FOR UPDATE OF r SKIP LOCKED`,
      [limit],
    );
    return rows.map((r) => {
      const a = r['appointment'] as Row;
      const site = r['site'] as Row | null;
      return {
        reminder: toReminder(r),
        appointment: toAppointment({
          ...a,
          starts_at: a['starts_at'] ? new Date(a['starts_at'] as string) : null,
          changed_at: new Date(a['changed_at'] as string),
        }),
        site: site
          ? {
              name: String(site['name']),
              locale: site['locale'] === 'fr' ? 'fr' : 'en',
              timezone: String(site['timezone']),
            }
          : null,
        optedOut: r['opted_out'] === true,
      };
    });
  }

  async finish(
    tx: Db,
    siteNumber: string,
    id: string,
    status: ReminderStatus,
    reason: string | null,
  ): Promise<void> {
    await tx.query(
      `UPDATE ${this.s}.reminders SET status = $3, reason = $4, updated_at = now(),
              sent_at = CASE WHEN $3 = 'sent' THEN now() ELSE sent_at END
        WHERE site_number = $1 AND id = $2`,
      [siteNumber, id, status, reason],
    );
  }

  async list(
    db: Db,
    siteNumber: string,
    filter: { appointmentId?: string; status?: ReminderStatus; limit: number },
  ): Promise<Reminder[]> {
    const rows: Row[] = await db.query(
      `SELECT * FROM ${this.s}.reminders WHERE site_number = $1
          AND ($2::text IS NULL OR appointment_id = $2) AND ($3::text IS NULL OR status = $3)
        ORDER BY due_at DESC, id LIMIT $4`,
      [siteNumber, filter.appointmentId ?? null, filter.status ?? null, filter.limit],
    );
    return rows.map(toReminder);
  }

  async policy(db: Db, siteNumber: string): Promise<{ policy: ReminderPolicy; version: number }> {
    const rows: Row[] = await db.query(
      `SELECT policy, version FROM ${this.s}.reminder_policies WHERE site_number = $1`,
      [siteNumber],
    );
    const row = rows[0];
    if (!row) return { policy: DEFAULT_POLICY, version: 0 };
    return { policy: reminderPolicySchema.parse(row['policy']), version: Number(row['version']) };
  }

  async savePolicy(db: Db, siteNumber: string, policy: ReminderPolicy, by: string): Promise<number> {
    const rows: Row[] = await db.query(
      `INSERT INTO ${this.s}.reminder_policies (site_number, policy, updated_by) VALUES ($1, $2, $3)
       ON CONFLICT (site_number) DO UPDATE SET policy = EXCLUDED.policy, updated_by = EXCLUDED.updated_by,
              version = ${this.s}.reminder_policies.version + 1, updated_at = now()
       RETURNING version`,
      [siteNumber, JSON.stringify(policy), by],
    );
    return Number(rows[0]?.['version']);
  }

  async optOut(db: Db, siteNumber: string, patientRef: string, channel: string): Promise<void> {
    await db.query(
      `INSERT INTO ${this.s}.reminder_opt_outs (site_number, patient_ref, channel) VALUES ($1, $2, $3)
       ON CONFLICT (site_number, patient_ref) DO NOTHING`,
      [siteNumber, patientRef, channel],
    );
  }

  async isOptedOut(db: Db, siteNumber: string, patientRef: string): Promise<boolean> {
    const rows: Row[] = await db.query(
      `SELECT 1 FROM ${this.s}.reminder_opt_outs WHERE site_number = $1 AND patient_ref = $2`,
      [siteNumber, patientRef],
    );
    return rows.length > 0;
  }
}
