/**
 * Token bucket per integration, in this process's memory (each replica enforces its share; the
 * limit is a protection against a runaway sender, not a billing meter). `now` is injectable.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly defaults: { perSecond: number; burst: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** 0 if the request may go now, else the seconds to wait before the next one would pass. */
  take(key: string, perSecond: number | null): number {
    const rate = perSecond ?? this.defaults.perSecond;
    const burst = perSecond === null ? this.defaults.burst : Math.max(1, perSecond);
    const t = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: t };
    bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * rate);
    bucket.at = t;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate));
  }
}
