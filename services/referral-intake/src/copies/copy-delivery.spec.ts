import { isRetryable } from './copy-delivery';

describe('copy delivery retry rule', () => {
  it.each([
    [null, true],
    [500, true],
    [503, true],
    [429, true],
    [400, false],
    [401, false],
    [404, false],
    [409, false],
  ])('status %p retryable: %p', (status, expected) => {
    expect(isRetryable(status)).toBe(expected);
  });
});
