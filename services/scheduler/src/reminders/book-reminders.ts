import { Events } from '@cloud-connect/contracts';
import type { Envelope } from '@cloud-connect/kafka';
import type { Logger } from '@cloud-connect/observability';
import type { SiteRecord } from '@cloud-connect/service-kit';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { planReminders } from './reminder-policy';
import type { ReferrerNotices } from './referrer-notices';
import { RemindersRepository, type AppointmentRecord, type ReminderKind } from './reminders.repository';

/** A stable id per (site, appointment, start, kind, lead, channel): a replayed plan adds nothing twice. */
export function reminderId(parts: (string | number | null)[]): string {
  const h = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const ENDED = new Set(['cancelled', 'noshow', 'entered-in-error']);

/**
 * `appointment.changed` → the appointment as the scheduler knows it, and its reminders and
 * notices (docs/architecture.md, flow 6). Booked: reminders per the site's policy (a moved appointment's
 * reminders are cancelled and planned again for the new time); cancelled: its reminders are
 * cancelled. Notices (booked, moved, cancelled) go to the patient of a referral's appointment.
 * Older messages than the one already applied change nothing.
 */
export class BookReminders {
  private readonly reminders: RemindersRepository;

  constructor(
    schema: string,
    private readonly sites: { find(site: string): Promise<SiteRecord | null> },
    private readonly minuteMs: number,
    private readonly logger: Logger,
    private readonly referrers?: ReferrerNotices,
  ) {
    this.reminders = new RemindersRepository(schema);
  }

  async handle(envelope: Envelope, tx: EntityManager): Promise<void> {
    if (envelope.type !== Events.appointmentChanged.type) return;
    const event = Events.appointmentChanged.schema.parse(envelope.payload);
    const site = envelope.siteId;
    const record = await this.sites.find(site);
    // The site directory reaches this service through its own topic: retry until it has.
    if (!record) throw new Error(`site ${site} is not known here yet`);
    const changedAt = new Date(event.changedAt);
    const before = await this.reminders.findAppointment(tx, site, event.appointmentId);
    if (before && before.changedAt.getTime() > changedAt.getTime()) return;
    const startsAt = event.start ? new Date(event.start) : (before?.startsAt ?? null);
    const patient = event.patient;
    const after: AppointmentRecord = {
      siteNumber: site,
      appointmentId: event.appointmentId,
      source: event.source,
      serviceRequestId: event.serviceRequestId ?? before?.serviceRequestId ?? null,
      status: event.status,
      startsAt,
      patientRef: patient?.ref ?? before?.patientRef ?? null,
      patientLocale: patient?.locale ?? before?.patientLocale ?? null,
      patientChannels: patient?.channels ?? before?.patientChannels ?? [],
      contactRecordId: patient?.recordId ?? before?.contactRecordId ?? null,
      patientContact: patient?.sealed.envelope ?? before?.patientContact ?? null,
      messageId: event.messageId,
      changedAt,
    };
    await this.reminders.saveAppointment(tx, after);
    const { policy } = await this.reminders.policy(tx, site);
    const now = new Date();
    const wasBooked = before?.status === 'booked';
    const moved = wasBooked && before.startsAt?.getTime() !== startsAt?.getTime();

    if (event.status !== 'booked') {
      const cancelled = await this.reminders.cancelScheduled(
        tx,
        site,
        event.appointmentId,
        `appointment-${event.status}`,
      );
      if (ENDED.has(event.status) && wasBooked && policy.statusNotices && after.source === 'referral')
        await this.notice(tx, after, 'notice-cancelled', policy.channels, now);
      this.logger.info({ siteNumber: site, status: event.status, cancelled }, 'appointment no longer booked');
      return;
    }
    if (!startsAt) return;
    if (wasBooked && !moved) return;
    if (moved) await this.reminders.cancelScheduled(tx, site, event.appointmentId, 'appointment-moved');
    if (policy.statusNotices && after.source === 'referral' && startsAt > now)
      await this.notice(tx, after, moved ? 'notice-moved' : 'notice-booked', policy.channels, now);
    if (!moved && after.source === 'referral' && startsAt > now)
      await this.referrers?.onBooked(tx, site, event.messageId, event.referrer, startsAt);
    if (after.source === 'emr-sync' && !policy.includeEmrAppointments) return;
    const plan = planReminders(policy, startsAt, now, record.timezone, this.minuteMs);
    for (const planned of plan) {
      for (const channel of policy.channels) {
        await this.reminders.add(tx, {
          id: reminderId([
            site,
            event.appointmentId,
            startsAt.toISOString(),
            'reminder',
            planned.leadMinutes,
            channel,
          ]),
          siteNumber: site,
          appointmentId: event.appointmentId,
          kind: 'reminder',
          channel,
          leadMinutes: planned.leadMinutes,
          appointmentStart: startsAt,
          dueAt: planned.dueAt,
        });
      }
    }
    this.logger.info({ siteNumber: site, moved, reminders: plan.length }, 'appointment reminders planned');
  }

  private async notice(
    tx: EntityManager,
    a: AppointmentRecord,
    kind: ReminderKind,
    channels: ('email' | 'sms')[],
    now: Date,
  ): Promise<void> {
    for (const channel of channels) {
      await this.reminders.add(tx, {
        id: reminderId([a.siteNumber, a.appointmentId, a.messageId, kind, null, channel]),
        siteNumber: a.siteNumber,
        appointmentId: a.appointmentId,
        kind,
        channel,
        leadMinutes: null,
        appointmentStart: a.startsAt,
        dueAt: now,
      });
    }
  }
}
