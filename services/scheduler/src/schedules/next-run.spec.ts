import { nextInterval, nextNightly } from './next-run';

const TORONTO = 'America/Toronto';

describe('nightly full sync slots in the site time zone', () => {
  it('fires at local midnight the evening before spring forward (EST, UTC-5) and after it (EDT, UTC-4)', () => {
    // 2026-03-08 02:00 EST becomes 03:00 EDT.
    const before = nextNightly(new Date('2026-03-07T12:00:00Z'), TORONTO, '00:00');
    expect(before.toISOString()).toBe('2026-03-08T05:00:00.000Z');
    const after = nextNightly(before, TORONTO, '00:00');
    expect(after.toISOString()).toBe('2026-03-09T04:00:00.000Z');
    // The day of the change is 23 hours long.
    expect(after.getTime() - before.getTime()).toBe(23 * 3600 * 1000);
  });

  it('fires at local midnight on both sides of fall back (a 25-hour day)', () => {
    // 2026-11-01 02:00 EDT becomes 01:00 EST.
    const before = nextNightly(new Date('2026-10-31T12:00:00Z'), TORONTO, '00:00');
    expect(before.toISOString()).toBe('2026-11-01T04:00:00.000Z');
    const after = nextNightly(before, TORONTO, '00:00');
    expect(after.toISOString()).toBe('2026-11-02T05:00:00.000Z');
    expect(after.getTime() - before.getTime()).toBe(25 * 3600 * 1000);
  });

  it('moves a local time inside the spring-forward gap to the first instant after it', () => {
    const slot = nextNightly(new Date('2026-03-07T12:00:00Z'), TORONTO, '02:30');
    expect(slot.toISOString()).toBe('2026-03-08T07:30:00.000Z'); // 03:30 EDT
  });

  it('is strictly after the given instant (a run at midnight schedules the next midnight)', () => {
    const midnight = new Date('2026-12-02T05:00:00Z');
    expect(nextNightly(midnight, TORONTO, '00:00').toISOString()).toBe('2026-12-03T05:00:00.000Z');
  });

  it('follows each site its own zone', () => {
    const at = new Date('2026-12-02T12:00:00Z');
    expect(nextNightly(at, 'America/Winnipeg', '00:00').toISOString()).toBe('2026-12-03T06:00:00.000Z');
    expect(nextNightly(at, 'America/St_Johns', '00:00').toISOString()).toBe('2026-12-03T03:30:00.000Z');
  });
});

describe('interval slots', () => {
  it('is one interval after the run, however many slots were missed', () => {
    expect(nextInterval(new Date('2026-12-02T10:07:00Z'), 30 * 60000).toISOString()).toBe(
      '2026-12-02T10:37:00.000Z',
    );
  });
});
