import { hash as digestOf } from 'node:crypto';
import type { AttemptLimit } from '@cloud-connect/db';
import { BoundedTtlCache } from '@cloud-connect/phi-client';
import { hashApiKey, sameHash } from './api-key';
import { DEFAULT_AUTH_HEADER } from './integration';
import { IntegrationsRepository, type Db, type KeyMatch } from './integrations.repository';

/** How long the set of registered header names is cached (a new integration's name works after this). */
const HEADER_NAMES_TTL_MS = 2000;
/** At most this many key-bearing headers of one request are looked up. */
const MAX_KEY_HEADERS = 4;
/** What every failed-key counter's name starts with (its throttle sweeps only those). */
export const KEY_THROTTLE_PREFIX = 'key-';
/** The characters of a key whose (hashed) value names its failure counter. */
const KEY_PREFIX_LENGTH = 8;

/** Bounds of the in-memory look-up caches of the inbound path (0 ms: no caching). */
export interface LookupCacheOptions {
  ttlMs: number;
  maxEntries: number;
}

/**
 * Counts failed API-key checks before they are made (the sign-in throttle's mechanism,
 * `PostgresAttemptThrottle`, shared by every replica): `take` answers 0 or the seconds to wait.
 */
export interface KeyFailureThrottle {
  take(limits: AttemptLimit[]): Promise<number>;
  forgive(keys: string[]): Promise<void>;
}

export interface KeyThrottleOptions {
  throttle: KeyFailureThrottle;
  /** Failed checks per source address, and per key prefix, within the throttle's window. */
  maxPerAddress: number;
  maxPerPrefix: number;
}

/** A key a request carries in one of the registered header names. */
export interface PresentedKey {
  header: string;
  key: string;
  /** SHA-256 of the key: the in-memory cache's index (cheaper than the pepper's HMAC). */
  digest: Buffer;
}

/** What the check of a request's keys found: the integration, none (401) or "wait" (429). */
export type KeyCheck = { match: KeyMatch } | { match: null } | { retryAfterSeconds: number };

const changeListeners = new Set<() => void>();

/**
 * Called after a transaction that changed an integration or its keys committed: every matcher
 * of this process forgets what it cached (other replicas within their cache's TTL).
 */
export function integrationsChanged(): void {
  for (const listener of changeListeners) listener();
}

interface Verified {
  digest: Buffer;
  match: KeyMatch;
}

/**
 * Finds the integration an inbound request's API key belongs to. A key counts only when it came
 * in the header *its own* integration registered: a key sent under another integration's header
 * name is not accepted, and a header that another site registered (which the sender may carry
 * for other reasons) cannot hide this integration's key — each registered name present is tried.
 */
export class InboundKeyMatcher {
  private readonly repository: IntegrationsRepository;
  private headerNames: { names: string[]; at: number } = {
    names: [DEFAULT_AUTH_HEADER.toLowerCase()],
    at: 0,
  };
  /** Checks in progress, by source address and keys: concurrent identical requests share one. */
  private readonly inFlight = new Map<string, Promise<KeyCheck>>();

  constructor(
    private readonly db: Db,
    schema: string,
    private readonly pepper: string,
    private readonly cacheOptions: LookupCacheOptions = { ttlMs: 0, maxEntries: 1 },
    private readonly throttle?: KeyThrottleOptions,
  ) {
    this.repository = new IntegrationsRepository(schema);
    this.verified = new BoundedTtlCache(cacheOptions.maxEntries, cacheOptions.ttlMs);
    changeListeners.add(() => this.forget());
  }

  /**
   * Verified keys by header and SHA-256 of the key: a repeat caller costs neither the pepper's
   * HMAC nor a Postgres round trip for `ttlMs` (the digests are compared in constant time). Only
   * matches are kept (an unknown key is checked every time, so a new key works at once); an entry
   * never outlives its key's expiry; a change made through this process clears them all, one
   * made through another replica shows here within `ttlMs`.
   */
  private readonly verified: BoundedTtlCache<Verified>;

  forget(): void {
    this.verified.deleteWhere(() => true);
    this.headerNames = { names: this.headerNames.names, at: 0 };
  }

  /** The integration of the request's key, or null; no throttle (see `check`). */
  async match(headers: Record<string, string | string[] | undefined>): Promise<KeyMatch | null> {
    const presented = await this.presented(headers);
    return this.cached(presented) ?? (await this.lookUp(presented));
  }

  /**
   * The inbound path's check: a cached key answers at once; otherwise, when a throttle is set,
   * the attempt is counted against the source address and each key's prefix *before* the HMAC
   * and the look-up (a blocked caller gets `retryAfterSeconds` and no check), and forgiven when
   * the key is valid. A request without any key is refused without counting (it costs nothing).
   */
  async check(
    headers: Record<string, string | string[] | undefined>,
    sourceAddress: string,
  ): Promise<KeyCheck> {
    const presented = await this.presented(headers);
    const cached = this.cached(presented);
    if (cached) return { match: cached };
    if (presented.length === 0) return { match: null };
    const flight = `${sourceAddress}\u0000${presented.map(cacheKeyOf).join('\u0000')}`;
    let running = this.inFlight.get(flight);
    if (!running) {
      running = this.throttledLookUp(presented, sourceAddress).finally(() => this.inFlight.delete(flight));
      this.inFlight.set(flight, running);
    }
    return running;
  }

  private async throttledLookUp(presented: PresentedKey[], sourceAddress: string): Promise<KeyCheck> {
    if (!this.throttle) return { match: await this.lookUp(presented) };
    const { throttle, maxPerAddress, maxPerPrefix } = this.throttle;
    const limits: AttemptLimit[] = [
      { key: `${KEY_THROTTLE_PREFIX}address:${sourceAddress}`, max: maxPerAddress },
      ...presented.map((p) => ({ key: `${KEY_THROTTLE_PREFIX}prefix:${prefixLabel(p)}`, max: maxPerPrefix })),
    ];
    const wait = await throttle.take(limits);
    if (wait > 0) return { retryAfterSeconds: wait };
    const match = await this.lookUp(presented);
    if (match) await throttle.forgive(limits.map((l) => l.key));
    return { match };
  }

  /** The keys of registered header names present on the request (at most `MAX_KEY_HEADERS`). */
  private async presented(headers: Record<string, string | string[] | undefined>): Promise<PresentedKey[]> {
    const found: PresentedKey[] = [];
    for (const header of await this.knownHeaderNames()) {
      const value = headers[header];
      const key = Array.isArray(value) ? value[0] : value;
      if (typeof key !== 'string' || key.length === 0 || key.length > 1024) continue;
      found.push({ header, key, digest: digestOf('sha256', key, 'buffer') });
      if (found.length >= MAX_KEY_HEADERS) break;
    }
    return found;
  }

  private cached(presented: PresentedKey[]): KeyMatch | null {
    if (this.cacheOptions.ttlMs === 0) return null;
    for (const p of presented) {
      const entry = this.verified.get(cacheKeyOf(p));
      if (entry && sameHash(entry.digest, p.digest) && usable(entry.match, p.header)) return entry.match;
    }
    return null;
  }

  private async lookUp(presented: PresentedKey[]): Promise<KeyMatch | null> {
    for (const p of presented) {
      const hash = hashApiKey(this.pepper, p.key);
      const found = await this.repository.findByKeyHash(this.db, hash);
      if (found && sameHash(found.keyHash, hash) && usable(found, p.header)) {
        if (this.cacheOptions.ttlMs > 0) this.verified.set(cacheKeyOf(p), { digest: p.digest, match: found });
        return found;
      }
    }
    return null;
  }

  private async knownHeaderNames(): Promise<string[]> {
    if (Date.now() - this.headerNames.at < HEADER_NAMES_TTL_MS) return this.headerNames.names;
    const registered = await this.repository.headerNames(this.db);
    const names = new Set([DEFAULT_AUTH_HEADER.toLowerCase(), ...registered.map((n) => n.toLowerCase())]);
    this.headerNames = { names: [...names], at: Date.now() };
    return this.headerNames.names;
  }
}

function cacheKeyOf(p: PresentedKey): string {
  return `${p.header}\u0000${p.digest.toString('base64')}`;
}

/** The key arrived in its own integration's header and has not expired (a rotated key's overlap). */
function usable(match: KeyMatch, header: string): boolean {
  return (
    match.authHeaderName.toLowerCase() === header &&
    (match.expiresAt === null || match.expiresAt.getTime() > Date.now())
  );
}

/**
 * A key prefix's counter name: a truncated hash of the header and the key's first characters, so
 * the counter table holds no part of any key.
 */
function prefixLabel(p: PresentedKey): string {
  return digestOf('sha256', `${p.header}\u0000${p.key.slice(0, KEY_PREFIX_LENGTH)}`, 'hex').slice(0, 24);
}
