export interface RetryPolicy {
  /** Total handler attempts, the first one included, before a message is dead-lettered. */
  maxAttempts: number;
  /** Delay before attempt `attempt + 1`, after attempt `attempt` failed (attempt starts at 1). */
  delayMs(attempt: number): number;
}

/** Exponential backoff with full jitter, capped. `random` is injectable for tests. */
export function exponentialBackoff(options: {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
  random?: () => number;
}): RetryPolicy {
  const random = options.random ?? Math.random;
  return {
    maxAttempts: options.maxAttempts,
    delayMs(attempt: number): number {
      const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
      // Half fixed, half jitter: spreads retries without ever retrying instantly.
      return Math.round(ceiling / 2 + (random() * ceiling) / 2);
    },
  };
}
