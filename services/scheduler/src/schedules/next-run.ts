import { DateTime } from 'luxon';

/** True when the zone is an IANA time zone luxon (and Intl) know. */
export function isKnownZone(timeZone: string): boolean {
  return DateTime.now().setZone(timeZone).isValid;
}

/**
 * The next nightly slot strictly after `after`: `localTime` (HH:MM) on the site's wall clock.
 * Computed on the wall clock, so it stays at local midnight across DST changes (a 23- or 25-hour
 * day). A local time that does not exist that day (inside a spring-forward gap) fires at the
 * first instant after the gap.
 */
export function nextNightly(after: Date, timeZone: string, localTime: string): Date {
  const [hour, minute] = localTime.split(':').map(Number) as [number, number];
  const zone = isKnownZone(timeZone) ? timeZone : 'America/Toronto';
  const now = DateTime.fromJSDate(after, { zone });
  let day = now.startOf('day');
  for (let i = 0; i < 3; i += 1) {
    const candidate = day.set({ hour, minute, second: 0, millisecond: 0 });
    if (candidate.toMillis() > after.getTime()) return candidate.toJSDate();
    day = day.plus({ days: 1 });
  }
  throw new Error('unreachable: a nightly slot exists within three days');
}

/**
 * The next slot of a fixed interval after a run at `ranAt`: one interval later. A replica that
 * was down for several intervals runs once on catching up, then keeps the interval from there.
 */
export function nextInterval(ranAt: Date, intervalMs: number): Date {
  return new Date(ranAt.getTime() + intervalMs);
}
