/**
 * Failed-authentication counters in fixed windows, per client id and per source address. While a
 * key is over its limit, every attempt (right or wrong) is refused until the window ends. In
 * memory per replica: with N replicas an attacker gets at most N times the budget.
 */
export class FailureThrottle {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly limits: { client: number; address: number; windowMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds to wait when `clientId` or `address` is blocked, else 0. */
  retryAfter(clientId: string | null, address: string): number {
    const waits = [
      this.wait(`a:${address}`, this.limits.address),
      clientId ? this.wait(`c:${clientId}`, this.limits.client) : 0,
    ];
    return Math.max(...waits);
  }

  fail(clientId: string | null, address: string): void {
    this.bump(`a:${address}`);
    if (clientId) this.bump(`c:${clientId}`);
    if (this.windows.size > 100000) this.sweep();
  }

  private wait(key: string, limit: number): number {
    const entry = this.windows.get(key);
    if (!entry || entry.failures < limit) return 0;
    const left = entry.start + this.limits.windowMs - this.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  private bump(key: string): void {
    const now = this.now();
    const entry = this.windows.get(key);
    if (!entry || now - entry.start >= this.limits.windowMs)
      this.windows.set(key, { start: now, failures: 1 });
    else entry.failures += 1;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.windows)
      if (now - entry.start >= this.limits.windowMs) this.windows.delete(key);
  }
}
