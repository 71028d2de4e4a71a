import { FailureThrottle } from './throttle';

describe('FailureThrottle', () => {
  it('blocks a client after its failures, then lets it try again when the window ends', () => {
    let now = 0;
    const throttle = new FailureThrottle({ client: 3, address: 100, windowMs: 10000 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfter('c1', '10.0.0.1')).toBe(0);
      throttle.fail('c1', '10.0.0.1');
    }
    expect(throttle.retryAfter('c1', '10.0.0.2')).toBe(10);
    expect(throttle.retryAfter('c2', '10.0.0.1')).toBe(0);
    now = 9500;
    expect(throttle.retryAfter('c1', '10.0.0.1')).toBe(1);
    now = 10000;
    expect(throttle.retryAfter('c1', '10.0.0.1')).toBe(0);
  });

  it('blocks an address that tries many client ids', () => {
    const throttle = new FailureThrottle({ client: 100, address: 5, windowMs: 60000 }, () => 0);
    for (let i = 0; i < 5; i++) throttle.fail(`client-${i}`, '192.0.2.9');
    expect(throttle.retryAfter('client-new', '192.0.2.9')).toBe(60);
    expect(throttle.retryAfter(null, '192.0.2.10')).toBe(0);
  });
});
