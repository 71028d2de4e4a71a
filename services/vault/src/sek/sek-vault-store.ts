import { DomainError, type ErrorKind } from '@cloud-connect/errors';
import type { VaultClient } from '@cloud-connect/service-kit';

/** Seconds a caller waits before retrying when Vault is unavailable. */
export const VAULT_RETRY_AFTER_SECONDS = 10;

/** Vault is sealed, down, or refuses our token/policy: callers answer 503 with Retry-After. */
export class VaultUnavailableError extends DomainError<'vault-unavailable'> {
  readonly domain = 'sek';

  constructor(readonly reason: 'sealed-or-down' | 'denied' | 'timeout') {
    super(
      'vault-unavailable',
      `the key vault is unavailable (${reason}); nothing was changed, retry later`,
      [],
      { retryAfterSeconds: VAULT_RETRY_AFTER_SECONDS },
    );
  }

  get kind(): ErrorKind {
    return 'unavailable';
  }
}

/** A compare-and-set on the KV version lost: someone stored or replaced the SEK meanwhile. */
export class SekVersionConflictError extends Error {
  constructor() {
    super('the SEK changed concurrently (version conflict)');
    this.name = 'SekVersionConflictError';
  }
}

export interface StoredSek {
  sek: string;
  version: number;
  createdTime: string;
}

interface KvReadResponse {
  data: { data: { sek?: string }; metadata: { version: number; created_time: string; destroyed?: boolean } };
}
interface KvWriteResponse {
  data: { version: number };
}
interface KvMetadataResponse {
  data: {
    current_version: number;
    oldest_version: number;
    versions?: Record<string, { deletion_time?: string; destroyed?: boolean }>;
  };
}

export function statusOf(error: unknown): number | undefined {
  return (error as { response?: { statusCode?: number } }).response?.statusCode;
}

/**
 * Maps what node-vault throws to our errors. The token is never part of an error here: only
 * the HTTP status and our own reason words leave this function.
 */
export function translate(error: unknown): Error {
  const status = statusOf(error);
  if (status === 403 || status === 401) return new VaultUnavailableError('denied');
  if (status === undefined || status >= 500 || status === 429) {
    const code = (error as { code?: string }).code;
    return new VaultUnavailableError(code === 'ECONNABORTED' ? 'timeout' : 'sealed-or-down');
  }
  return new Error(`vault answered ${status}`);
}

export function isCasMismatch(error: unknown): boolean {
  const status = statusOf(error);
  const body = (error as { response?: { body?: { errors?: string[] } } }).response?.body;
  return status === 400 && (body?.errors ?? []).some((e) => e.includes('check-and-set'));
}

/**
 * A site's SEK in Vault's KV v2 engine at `secret/sites/<site>/sek`: every store/replace is a new
 * KV version (earlier versions stay readable for data encrypted under them); writes use
 * check-and-set so a store never overwrites and a replace never races another replace.
 */
export class SekVaultStore {
  private readonly listeners: ((site: string) => void)[] = [];

  constructor(
    private readonly client: VaultClient,
    private readonly mount = 'secret',
  ) {}

  /** Called after this process changed a site's SEK (caches of derived keys drop it). */
  onChange(listener: (site: string) => void): void {
    this.listeners.push(listener);
  }

  private changed(site: string): void {
    for (const listener of this.listeners) listener(site);
  }

  private dataPath(site: string): string {
    return `${this.mount}/data/sites/${site}/sek`;
  }

  private metadataPath(site: string): string {
    return `${this.mount}/metadata/sites/${site}/sek`;
  }

  /** The current version number, or null when the site has no SEK. */
  async currentVersion(site: string): Promise<number | null> {
    try {
      const meta = (await this.client.read(this.metadataPath(site))) as KvMetadataResponse;
      const current = meta.data.current_version;
      const state = meta.data.versions?.[String(current)];
      // A soft-deleted (removed, recoverable) or destroyed current version: no usable SEK.
      if (current <= 0 || state?.deletion_time || state?.destroyed) return null;
      return current;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw translate(error);
    }
  }

  /** Reads the SEK (the given version, or the current one); null when absent or destroyed. */
  async read(site: string, version?: number): Promise<StoredSek | null> {
    const path = version ? `${this.dataPath(site)}?version=${version}` : this.dataPath(site);
    try {
      const response = (await this.client.read(path)) as KvReadResponse;
      const sek = response.data.data?.sek;
      if (!sek) return null;
      return {
        sek,
        version: response.data.metadata.version,
        createdTime: response.data.metadata.created_time,
      };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw translate(error);
    }
  }

  /**
   * Writes a new version. `expectedVersion` 0 means "only if there is none yet"; otherwise the
   * current version must still be `expectedVersion`. Returns the new version number.
   */
  async write(site: string, sek: string, expectedVersion: number): Promise<number> {
    try {
      const response = (await this.client.write(this.dataPath(site), {
        data: { sek },
        options: { cas: expectedVersion },
      })) as KvWriteResponse;
      this.changed(site);
      return response.data.version;
    } catch (error) {
      if (isCasMismatch(error)) throw new SekVersionConflictError();
      throw translate(error);
    }
  }

  /**
   * Soft-deletes every live version (KV v2 `delete`: the data stays in Vault, unreadable until
   * `undelete`). Returns the versions deleted.
   */
  async softDeleteAll(site: string): Promise<number[]> {
    try {
      const meta = (await this.client.read(this.metadataPath(site))) as KvMetadataResponse;
      const versions = Object.entries(meta.data.versions ?? {})
        .filter(([, v]) => !v.destroyed && !v.deletion_time)
        .map(([n]) => Number(n))
        .sort((a, b) => a - b);
      if (versions.length > 0)
        await this.client.write(`${this.mount}/delete/sites/${site}/sek`, { versions });
      this.changed(site);
      return versions;
    } catch (error) {
      throw translate(error);
    }
  }

  /** Brings soft-deleted versions back (KV v2 `undelete`). */
  async undelete(site: string, versions: number[]): Promise<void> {
    try {
      await this.client.write(`${this.mount}/undelete/sites/${site}/sek`, { versions });
      this.changed(site);
    } catch (error) {
      throw translate(error);
    }
  }

  /** Destroys these versions for good (KV v2 `destroy`): data sealed under them is unreadable. */
  async destroyVersions(site: string, versions: number[]): Promise<void> {
    try {
      if (versions.length > 0)
        await this.client.write(`${this.mount}/destroy/sites/${site}/sek`, { versions });
      this.changed(site);
    } catch (error) {
      throw translate(error);
    }
  }

  /** The highest version ever written (live, deleted or destroyed), 0 when none: a store's check-and-set. */
  async latestVersion(site: string): Promise<number> {
    try {
      const meta = (await this.client.read(this.metadataPath(site))) as KvMetadataResponse;
      return meta.data.current_version;
    } catch (error) {
      if (statusOf(error) === 404) return 0;
      throw translate(error);
    }
  }
}
