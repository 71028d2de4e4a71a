import { BoundedTtlCache } from '@cloud-connect/phi-client';
import { hashApiKey, sameHash } from './api-key';
import { DEFAULT_AUTH_HEADER } from './integration';
import { IntegrationsRepository, type Db, type KeyMatch } from './integrations.repository';

/** How long the set of registered header names is cached (a new integration's name works after this). */
const HEADER_NAMES_TTL_MS = 2000;
/** At most this many key-bearing headers of one request are looked up. */
const MAX_KEY_HEADERS = 4;

/** Bounds of the in-memory look-up caches of the inbound path (0 ms: no caching). */
export interface LookupCacheOptions {
  ttlMs: number;
  maxEntries: number;
}

const changeListeners = new Set<() => void>();

/**
 * Called after a transaction that changed an integration or its keys committed: every matcher
 * of this process forgets what it cached (other replicas within their cache's TTL).
 */
export function integrationsChanged(): void {
  for (const listener of changeListeners) listener();
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

  constructor(
    private readonly db: Db,
    schema: string,
    private readonly pepper: string,
    private readonly cacheOptions: LookupCacheOptions = { ttlMs: 0, maxEntries: 1 },
  ) {
    this.repository = new IntegrationsRepository(schema);
    this.matches = new BoundedTtlCache(cacheOptions.maxEntries, cacheOptions.ttlMs);
    changeListeners.add(() => this.forget());
  }

  /**
   * Accepted keys' integrations by header and key hash: a known key costs no Postgres round trip
   * for `ttlMs`. Only matches are kept (an unknown key is looked up every time, so a new key
   * works at once); an entry never outlives its key's expiry; a change made through this process
   * clears them all, one made through another replica shows here within `ttlMs`.
   */
  private readonly matches: BoundedTtlCache<KeyMatch>;

  forget(): void {
    this.matches.deleteWhere(() => true);
    this.headerNames = { names: this.headerNames.names, at: 0 };
  }

  async match(headers: Record<string, string | string[] | undefined>): Promise<KeyMatch | null> {
    let tried = 0;
    for (const name of await this.knownHeaderNames()) {
      const value = headers[name];
      const key = Array.isArray(value) ? value[0] : value;
      if (typeof key !== 'string' || key.length === 0 || key.length > 1024) continue;
      tried += 1;
      if (tried > MAX_KEY_HEADERS) break;
      const hash = hashApiKey(this.pepper, key);
      const found = await this.lookUp(name, hash);
      if (found && sameHash(found.keyHash, hash) && found.authHeaderName.toLowerCase() === name) return found;
    }
    return null;
  }

  private async lookUp(header: string, hash: Buffer): Promise<KeyMatch | null> {
    const cacheKey = `${header}\u0000${hash.toString('base64')}`;
    const cached = this.matches.get(cacheKey);
    if (cached && (cached.expiresAt === null || cached.expiresAt.getTime() > Date.now())) return cached;
    const found = await this.repository.findByKeyHash(this.db, hash);
    if (found && this.cacheOptions.ttlMs > 0) this.matches.set(cacheKey, found);
    return found;
  }

  private async knownHeaderNames(): Promise<string[]> {
    if (Date.now() - this.headerNames.at < HEADER_NAMES_TTL_MS) return this.headerNames.names;
    const registered = await this.repository.headerNames(this.db);
    const names = new Set([DEFAULT_AUTH_HEADER.toLowerCase(), ...registered.map((n) => n.toLowerCase())]);
    this.headerNames = { names: [...names], at: Date.now() };
    return this.headerNames.names;
  }
}
