import { clampedMessageTime } from './apply-status-change';

describe('message timestamps of status changes', () => {
  const now = new Date('2026-03-01T12:00:00.000Z');

  it('a message dated in the future counts as dated now', () => {
    expect(clampedMessageTime('2099-01-01T00:00:00Z', now)).toBe(now.toISOString());
    expect(clampedMessageTime('2026-03-01T12:00:01Z', now)).toBe(now.toISOString());
  });

  it('a past or present timestamp is kept as stated; a missing or unreadable one is now', () => {
    expect(clampedMessageTime('2026-02-28T08:30:00-05:00', now)).toBe('2026-02-28T08:30:00-05:00');
    expect(clampedMessageTime(now.toISOString(), now)).toBe(now.toISOString());
    expect(clampedMessageTime(null, now)).toBe(now.toISOString());
    expect(clampedMessageTime('not a date', now)).toBe(now.toISOString());
  });
});
