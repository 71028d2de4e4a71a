import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  it('lets a burst through, then asks to wait, then refills with time, per integration', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 100, burst: 100 }, () => now);
    expect([0, 1].map(() => limiter.take('a', 2))).toEqual([0, 0]);
    expect(limiter.take('a', 2)).toBe(1);
    expect(limiter.take('b', 2)).toBe(0);
    now += 500;
    expect(limiter.take('a', 2)).toBe(0);
    expect(limiter.take('a', 2)).toBeGreaterThanOrEqual(1);
  });

  it('uses the defaults when the integration has no limit of its own', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 3 }, () => 0);
    expect([1, 2, 3, 4].map(() => limiter.take('x', null))).toEqual([0, 0, 0, 1]);
  });
});
