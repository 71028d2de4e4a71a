import type { VaultClient } from '@cloud-connect/service-kit';
import { isCasMismatch, statusOf, translate } from '../kv/vault-kv';
import type { ChainAnchor } from './audit-chain';

/** The HMAC key of the audit chains is not in Vault: the installer did not provision it. */
export class AuditKeyMissingError extends Error {
  constructor(path: string) {
    super(
      `the audit chain key is missing in Vault (${path}, field "key": base64 of 32 random bytes); ` +
        'the local stack and the installation guide create it',
    );
    this.name = 'AuditKeyMissingError';
  }
}

/** A check-and-set write of an anchor lost: the anchor in Vault is not the version we read. */
export class AnchorConflictError extends Error {
  constructor(readonly siteNumber: string) {
    super(`the audit anchor of site ${siteNumber} changed in Vault since it was read (check-and-set)`);
    this.name = 'AnchorConflictError';
  }
}

export interface StoredAnchor extends ChainAnchor {
  /** The KV v2 version of the anchor secret: the next write's check-and-set. */
  version: number;
  anchoredAt: string;
}

interface AnchorData {
  seq?: unknown;
  hash?: unknown;
  hmacSince?: unknown;
  anchoredAt?: unknown;
}

/**
 * What the audit chains keep in Vault (KV v2, `secret/`):
 * - `audit/hmac-key`: the chain's HMAC key, provisioned by the installer; the vault service may
 *   only read it (deploy/vault/policies/vault-service.hcl);
 * - `audit/chains/<chain>/<site>`: each site's anchor (head sequence number and hash), written
 *   with check-and-set so nobody can move it back without a conflict. `<chain>` is the database
 *   schema holding the chain, so two installations (or test runs) sharing a Vault never mix.
 */
export class AuditAnchorStore {
  private key: Buffer | null = null;

  constructor(
    private readonly client: VaultClient,
    readonly chain: string,
    private readonly mount = 'secret',
  ) {}

  get keyPath(): string {
    return `${this.mount}/audit/hmac-key`;
  }

  /** The HMAC key (read once, then kept in memory). */
  async hmacKey(): Promise<Buffer> {
    if (this.key) return this.key;
    let response: { data: { data?: { key?: unknown } } };
    try {
      response = (await this.client.read(`${this.mount}/data/audit/hmac-key`)) as typeof response;
    } catch (error) {
      if (statusOf(error) === 404) throw new AuditKeyMissingError(this.keyPath);
      throw translate(error);
    }
    const text = response.data.data?.key;
    const key = typeof text === 'string' ? Buffer.from(text, 'base64') : Buffer.alloc(0);
    if (key.length < 32) throw new AuditKeyMissingError(this.keyPath);
    this.key = key;
    return key;
  }

  private anchorPath(kind: 'data' | 'metadata', site: string): string {
    return `${this.mount}/${kind}/audit/chains/${this.chain}/${site}`;
  }

  /** The site's current anchor, or null when it was never anchored. */
  async read(site: string): Promise<StoredAnchor | null> {
    let response: { data: { data: AnchorData | null; metadata: { version: number } } };
    try {
      response = (await this.client.read(this.anchorPath('data', site))) as typeof response;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw translate(error);
    }
    const data = response.data.data;
    if (!data) return null;
    if (typeof data.seq !== 'number' || typeof data.hash !== 'string')
      throw new Error(`the audit anchor of site ${site} in Vault is not readable`);
    return {
      seq: data.seq,
      hash: data.hash,
      hmacSince: typeof data.hmacSince === 'number' ? data.hmacSince : null,
      anchoredAt: typeof data.anchoredAt === 'string' ? data.anchoredAt : '',
      version: response.data.metadata.version,
    };
  }

  /** Writes a new anchor version if the current version is still `expectedVersion` (0: none yet). */
  async write(site: string, anchor: ChainAnchor, expectedVersion: number): Promise<number> {
    try {
      const response = (await this.client.write(this.anchorPath('data', site), {
        data: { ...anchor, anchoredAt: new Date().toISOString() },
        options: { cas: expectedVersion },
      })) as { data: { version: number } };
      return response.data.version;
    } catch (error) {
      if (isCasMismatch(error)) throw new AnchorConflictError(site);
      throw translate(error);
    }
  }

  /** Every site of this chain that has an anchor (a chain deleted whole still has one). */
  async anchoredSites(): Promise<string[]> {
    try {
      const response = (await this.client.list(`${this.mount}/metadata/audit/chains/${this.chain}`)) as {
        data: { keys?: string[] };
      };
      return (response.data.keys ?? []).filter((k) => !k.endsWith('/'));
    } catch (error) {
      if (statusOf(error) === 404) return [];
      throw translate(error);
    }
  }
}
