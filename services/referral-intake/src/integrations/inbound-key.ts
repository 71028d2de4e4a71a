import { hashApiKey, sameHash } from './api-key';
import { DEFAULT_AUTH_HEADER } from './integration';
import { IntegrationsRepository, type Db, type KeyMatch } from './integrations.repository';

/** How long the set of registered header names is cached (a new integration's name works after this). */
const HEADER_NAMES_TTL_MS = 2000;
/** At most this many key-bearing headers of one request are looked up. */
const MAX_KEY_HEADERS = 4;

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
  ) {
    this.repository = new IntegrationsRepository(schema);
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
      const found = await this.repository.findByKeyHash(this.db, hash);
      if (found && sameHash(found.keyHash, hash) && found.authHeaderName.toLowerCase() === name) return found;
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
