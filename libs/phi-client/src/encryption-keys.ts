import { BoundedTtlCache } from './bounded-cache';

/** How long and for how many records an issued data key is used, and how unwrapped keys are kept. */
export interface DataKeyPolicy {
  /** An issued data key encrypts for at most this long (ms) [300000]. */
  maxAgeMs: number;
  /** ... and at most this many records [10000]. */
  maxRecords: number;
  /** Data keys in use at once (one per site) [1000]. */
  maxSites: number;
  /** Unwrapped data keys kept for decryption [1000]... */
  unwrapCacheSize: number;
  /** ... each for at most this long (ms) [300000]. */
  unwrapCacheTtlMs: number;
}

export const DEFAULT_DATA_KEY_POLICY: DataKeyPolicy = {
  maxAgeMs: 300_000,
  maxRecords: 10_000,
  maxSites: 1000,
  unwrapCacheSize: 1000,
  unwrapCacheTtlMs: 300_000,
};

/** A data key as the vault service issued it: id (hex), plaintext key, wrapped key. */
export interface IssuedDataKey {
  keyId: string;
  key: Buffer;
  wrapped: Buffer;
}

interface ActiveKey extends IssuedDataKey {
  remaining: number;
}

/**
 * Issuances one use may wait for. Each successful issuance serves `maxRecords` waiting uses in
 * the order they came, so a use waits about (uses ahead of it / maxRecords) rounds; this only
 * stops a runaway loop.
 */
const MAX_ISSUE_ROUNDS = 1000;

export class KeyUnavailableError extends Error {
  constructor() {
    super('no data key could be reserved; retry later');
    this.name = 'KeyUnavailableError';
  }
}

/**
 * The data key each site's records are encrypted under now: issued on first use, used for at
 * most `maxAgeMs` and `maxRecords` records, then replaced; at most `maxSites` sites at once.
 * A key that leaves the cache (age, count, size, `forget`) is zeroed. Concurrent uses of a site
 * with no usable key share one issuance. A key is taken and used in the same synchronous step,
 * so it cannot be zeroed while in use.
 */
export class EncryptionKeys {
  /** Keys issued so far (each one audited by the vault service). */
  issued = 0;
  private readonly keys: BoundedTtlCache<ActiveKey>;
  private readonly issuing = new Map<string, Promise<void>>();

  constructor(
    private readonly policy: Pick<DataKeyPolicy, 'maxAgeMs' | 'maxRecords' | 'maxSites'>,
    private readonly issue: (site: string) => Promise<IssuedDataKey>,
    now: () => number = Date.now,
  ) {
    this.keys = new BoundedTtlCache<ActiveKey>(policy.maxSites, policy.maxAgeMs, (k) => k.key.fill(0), now);
  }

  /** Runs `work` synchronously with one use of the site's key (issuing one first if needed). */
  async use<T>(site: string, work: (key: Buffer, wrapped: Buffer) => T): Promise<T> {
    for (let round = 0; round < MAX_ISSUE_ROUNDS; round += 1) {
      const active = this.keys.get(site);
      if (active && active.remaining > 0) {
        active.remaining -= 1;
        try {
          return work(active.key, active.wrapped);
        } finally {
          if (active.remaining === 0) this.keys.deleteWhere((k) => k === site);
        }
      }
      await this.issueFor(site);
    }
    throw new KeyUnavailableError();
  }

  private issueFor(site: string): Promise<void> {
    const pending = this.issuing.get(site);
    if (pending) return pending;
    const issuing = this.issue(site)
      .then((issued) => {
        this.issued += 1;
        this.keys.set(site, { ...issued, remaining: this.policy.maxRecords });
      })
      .finally(() => this.issuing.delete(site));
    this.issuing.set(site, issuing);
    return issuing;
  }

  /** Zeroes keys past their age now (a timer calls it, so an idle key does not linger). */
  sweep(): void {
    this.keys.sweep();
  }

  /** Zeroes and drops the site's key (or every key). */
  forget(site?: string): void {
    this.keys.deleteWhere((k) => site === undefined || k === site);
  }

  get size(): number {
    return this.keys.size;
  }
}
