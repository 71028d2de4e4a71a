import { DateTime } from 'luxon';
import { z } from 'zod';

const localTime = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'a local time HH:MM');

/** A site's reminder policy (admin API DTO and stored form). Lead times in minutes before the start. */
export const reminderPolicySchema = z
  .object({
    /** Reminders before booked appointments. */
    enabled: z.boolean(),
    leadMinutes: z
      .array(
        z
          .number()
          .int()
          .min(1)
          .max(60 * 24 * 60),
      )
      .max(5)
      .refine((leads) => new Set(leads).size === leads.length, 'lead times must differ'),
    channels: z
      .array(z.enum(['email', 'sms']))
      .min(1)
      .refine((c) => new Set(c).size === c.length, 'each channel once'),
    /** No reminder goes out between start and end (site's wall clock); null = any time. */
    quietHours: z.object({ start: localTime, end: localTime }).strict().nullable(),
    /** Also remind of appointments synced from the EMR (not only those booked by eReferral). */
    includeEmrAppointments: z.boolean(),
    /** Tell the patient when their referral's appointment is booked, moved or cancelled. */
    statusNotices: z.boolean(),
  })
  .strict();

export type ReminderPolicy = z.infer<typeof reminderPolicySchema>;

/** Until a site admin sets one: no reminders (the site enables them), notices on. */
export const DEFAULT_POLICY: ReminderPolicy = {
  enabled: false,
  leadMinutes: [7 * 24 * 60, 24 * 60],
  channels: ['email', 'sms'],
  quietHours: { start: '21:00', end: '08:00' },
  includeEmrAppointments: false,
  statusNotices: true,
};

export interface PlannedReminder {
  leadMinutes: number;
  dueAt: Date;
}

function minutesOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/**
 * When a due time falls in quiet hours, it moves to the end of the quiet period if that is still
 * before the appointment, else back to the last minute before the quiet period began.
 */
export function outOfQuietHours(
  dueAt: Date,
  start: Date,
  quiet: ReminderPolicy['quietHours'],
  timeZone: string,
): Date {
  if (!quiet) return dueAt;
  const qs = minutesOfDay(quiet.start);
  const qe = minutesOfDay(quiet.end);
  if (qs === qe) return dueAt;
  const local = DateTime.fromJSDate(dueAt, { zone: timeZone });
  const m = local.hour * 60 + local.minute;
  const inQuiet = qs < qe ? m >= qs && m < qe : m >= qs || m < qe;
  if (!inQuiet) return dueAt;
  // The quiet period containing `local`: it began today or yesterday.
  const beganToday = qs < qe || m >= qs;
  const began = local.startOf('day').plus({ days: beganToday ? 0 : -1, minutes: qs });
  const ends = began.startOf('day').plus({ days: qs < qe ? 0 : 1, minutes: qe });
  if (ends.toMillis() < start.getTime()) return ends.toJSDate();
  return began.minus({ minutes: 1 }).toJSDate();
}

/**
 * The reminders a booked appointment gets under a policy: one per lead time whose due time is
 * still ahead (a lead already past when booking is not sent late; nothing for a past appointment).
 * `minuteMs` is the length of a minute (shortened in tests).
 */
export function planReminders(
  policy: ReminderPolicy,
  start: Date,
  now: Date,
  timeZone: string,
  minuteMs = 60000,
): PlannedReminder[] {
  if (!policy.enabled || start.getTime() <= now.getTime()) return [];
  const planned: PlannedReminder[] = [];
  for (const lead of [...policy.leadMinutes].sort((a, b) => b - a)) {
    const raw = new Date(start.getTime() - lead * minuteMs);
    const dueAt = outOfQuietHours(raw, start, policy.quietHours, timeZone);
    if (dueAt.getTime() <= now.getTime() || dueAt.getTime() >= start.getTime()) continue;
    planned.push({ leadMinutes: lead, dueAt });
  }
  return planned;
}
