import {
  DEFAULT_POLICY,
  outOfQuietHours,
  planReminders,
  reminderPolicySchema,
  type ReminderPolicy,
} from './reminder-policy';

const TZ = 'America/Toronto';
const policy: ReminderPolicy = {
  ...DEFAULT_POLICY,
  enabled: true,
  quietHours: { start: '21:00', end: '08:00' },
};

describe('reminder plan', () => {
  it('plans 7 days and 1 day before a booked appointment', () => {
    const start = new Date('2026-12-15T15:00:00Z'); // 10:00 EST
    const plan = planReminders(policy, start, new Date('2026-12-01T12:00:00Z'), TZ);
    expect(plan.map((p) => [p.leadMinutes, p.dueAt.toISOString()])).toEqual([
      [10080, '2026-12-08T15:00:00.000Z'],
      [1440, '2026-12-14T15:00:00.000Z'],
    ]);
  });

  it('sends nothing for a past appointment or when reminders are off', () => {
    const now = new Date('2026-12-01T12:00:00Z');
    expect(planReminders(policy, new Date('2026-11-30T12:00:00Z'), now, TZ)).toEqual([]);
    expect(planReminders({ ...policy, enabled: false }, new Date('2026-12-15T15:00:00Z'), now, TZ)).toEqual(
      [],
    );
  });

  it('drops a lead already past at booking time (no late reminder)', () => {
    const plan = planReminders(
      policy,
      new Date('2026-12-05T15:00:00Z'),
      new Date('2026-12-01T12:00:00Z'),
      TZ,
    );
    expect(plan.map((p) => p.leadMinutes)).toEqual([1440]);
  });

  it('moves a due time out of quiet hours: to their end when still before the appointment', () => {
    // Appointment 07:30 local: 1 day before is 07:30 (quiet until 08:00) -> 08:00 the day before.
    const start = new Date('2026-12-15T12:30:00Z');
    const due = outOfQuietHours(new Date('2026-12-14T12:30:00Z'), start, policy.quietHours, TZ);
    expect(due.toISOString()).toBe('2026-12-14T13:00:00.000Z');
  });

  it('moves it before the quiet period when the end would be too late', () => {
    // Appointment 07:00 local, lead 60 minutes -> 06:00 quiet; 08:00 is after the start -> 20:59 the evening before.
    const start = new Date('2026-12-15T12:00:00Z');
    const due = outOfQuietHours(new Date('2026-12-15T11:00:00Z'), start, policy.quietHours, TZ);
    expect(due.toISOString()).toBe('2026-12-15T01:59:00.000Z');
  });

  it('shortens minutes in tests (a lead of 1 minute = 1 second)', () => {
    const now = new Date('2026-12-01T15:00:00Z');
    const start = new Date(now.getTime() + 20000);
    const plan = planReminders({ ...policy, quietHours: null, leadMinutes: [5] }, start, now, TZ, 1000);
    expect(plan[0]?.dueAt.toISOString()).toBe('2026-12-01T15:00:15.000Z');
  });

  it('rejects a policy with repeated leads or no channel, naming the field', () => {
    const bad = reminderPolicySchema.safeParse({ ...policy, leadMinutes: [60, 60], channels: [] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['channels', 'leadMinutes']);
  });
});
