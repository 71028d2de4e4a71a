/** A small LRU with a time to live: unwrapped key material stays in memory briefly and bounded. */
export class BoundedTtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly onEvict: (value: V) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) {
      this.onEvict(entry.value);
      return undefined;
    }
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      if (old.value !== value) this.onEvict(old.value);
    }
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      const evicted = this.entries.get(oldest);
      this.entries.delete(oldest);
      if (evicted) this.onEvict(evicted.value);
    }
  }

  /** Drops (and hands to onEvict) every expired entry; a timer calls it so nothing lingers. */
  sweep(): void {
    const now = this.now();
    for (const [key, entry] of [...this.entries]) {
      if (entry.expiresAt <= now) {
        this.entries.delete(key);
        this.onEvict(entry.value);
      }
    }
  }

  deleteWhere(predicate: (key: string) => boolean): void {
    for (const [key, entry] of [...this.entries]) {
      if (predicate(key)) {
        this.entries.delete(key);
        this.onEvict(entry.value);
      }
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
