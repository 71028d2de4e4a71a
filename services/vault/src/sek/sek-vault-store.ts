import { isCasMismatch, statusOf, translate } from '../kv/vault-kv';
import type { VaultClient } from '@cloud-connect/service-kit';

export {
  isCasMismatch,
  statusOf,
  translate,
  VAULT_RETRY_AFTER_SECONDS,
  VaultUnavailableError,
} from '../kv/vault-kv';

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
