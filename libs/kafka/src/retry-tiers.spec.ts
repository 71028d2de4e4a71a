import { mainTopicOfRetry, retryTopicFor, retryTopicsOf } from './retry-tiers';

describe('retry tiers', () => {
  it('gives every main topic one retry topic per tier, shortest first', () => {
    expect(retryTopicsOf('emr.command')).toEqual([
      'emr.command.retry.5s',
      'emr.command.retry.1m',
      'emr.command.retry.10m',
    ]);
  });

  it.each([
    [0, 'retry.5s'],
    [300, 'retry.5s'],
    [59_999, 'retry.5s'],
    [60_000, 'retry.1m'],
    [599_999, 'retry.1m'],
    [600_000, 'retry.10m'],
    [96 * 3600_000, 'retry.10m'],
  ])('sends a %i ms delay to the %s tier', (delay, suffix) => {
    expect(retryTopicFor('notification.requested', delay)).toBe(`notification.requested.${suffix}`);
  });

  it('finds the main topic of a retry topic, and nothing for other topics', () => {
    expect(mainTopicOfRetry('referral.received.retry.1m')).toBe('referral.received');
    expect(mainTopicOfRetry('referral.received')).toBeUndefined();
    expect(mainTopicOfRetry('referral.received.dlq')).toBeUndefined();
    expect(mainTopicOfRetry('referral.received.retry')).toBeUndefined();
  });
});
