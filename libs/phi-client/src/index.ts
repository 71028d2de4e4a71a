import { readProblem } from '@cloud-connect/errors';
import { BoundedTtlCache } from './bounded-cache';
import {
  DEFAULT_DATA_KEY_POLICY,
  EncryptionKeys,
  KeyUnavailableError,
  type DataKeyPolicy,
} from './encryption-keys';
import {
  formatOf,
  LEGACY_RECORD_FORMAT,
  openRecord,
  RECORD_ID,
  RecordEnvelopeError,
  sealRecord,
  wrappedKeyOf,
} from './record-envelope';

export { BoundedTtlCache } from './bounded-cache';
export {
  DEFAULT_DATA_KEY_POLICY,
  EncryptionKeys,
  type DataKeyPolicy,
  type IssuedDataKey,
} from './encryption-keys';
export { RECORD_FORMAT, LEGACY_RECORD_FORMAT, wrappedKeyOf } from './record-envelope';

/**
 * Envelope encryption of PHI where the data lives (the KMS data-key pattern): the vault service
 * issues a data key for a site (plaintext + wrapped under the site's SEK-derived key), this
 * client encrypts records locally with AES-256-GCM and stores the wrapped key in each record;
 * decrypting unwraps through the vault service. The SEK never leaves `vault`, and plaintext PHI
 * never crosses the network to it.
 */
export interface PhiCipher {
  encrypt(site: string, recordId: string, plaintext: Buffer): Promise<Buffer>;
  decrypt(site: string, recordId: string, ciphertext: Buffer): Promise<Buffer>;
}

/** Mints service tokens for the callee (ServiceTokenIssuer from @cloud-connect/auth fits). */
export interface ServiceTokenSource {
  tokenFor(audienceService: string): Promise<string>;
}

export class PhiClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** 503 (Vault or the vault service unavailable) and network errors: retry later. */
    readonly retryable: boolean,
    /** The site of the call (a site number, never PHI). */
    readonly site?: string,
  ) {
    super(message);
    this.name = 'PhiClientError';
  }
}

/** The site has stored no SEK yet: nothing can be encrypted for it until a site admin stores one. */
export function isSekMissing(error: unknown): error is PhiClientError {
  return error instanceof PhiClientError && error.code === 'sek-not-found';
}

/** The vault service (or Vault behind it) is unreachable, sealed or overloaded: retry later. */
export function isPhiUnavailable(error: unknown): error is PhiClientError {
  return error instanceof PhiClientError && error.retryable;
}

/** Seconds a caller should ask its own client to wait when the PHI service is unavailable. */
export const PHI_RETRY_AFTER_SECONDS = 10;

/** The policy from the service's validated config (`phiServiceEnv` of @cloud-connect/config). */
export function dataKeyPolicyOf(config: {
  PHI_DATA_KEY_MAX_AGE_MS: number;
  PHI_DATA_KEY_MAX_RECORDS: number;
  PHI_UNWRAPPED_KEYS_MAX: number;
  PHI_UNWRAPPED_KEY_TTL_MS: number;
}): Partial<DataKeyPolicy> {
  return {
    maxAgeMs: config.PHI_DATA_KEY_MAX_AGE_MS,
    maxRecords: config.PHI_DATA_KEY_MAX_RECORDS,
    unwrapCacheSize: config.PHI_UNWRAPPED_KEYS_MAX,
    unwrapCacheTtlMs: config.PHI_UNWRAPPED_KEY_TTL_MS,
  };
}

export interface VaultPhiCipherOptions {
  /** Base URL of the vault service, e.g. http://vault:3003. */
  baseUrl: string;
  tokens: ServiceTokenSource;
  timeoutMs?: number;
  dataKeys?: Partial<DataKeyPolicy>;
}

interface Item {
  recordId: string;
  data: Buffer;
}

/** The vault service's limit of records (or wrapped keys) per call. */
export const PHI_MAX_BATCH = 100;

interface IssuedKeyAnswer {
  keyId: string;
  key: string;
  wrappedKey: string;
  sekVersion: number;
}

export class VaultPhiCipher implements PhiCipher {
  /** HTTP calls made so far (tests and metrics see how rarely the vault service is called). */
  calls = 0;
  readonly policy: DataKeyPolicy;
  /** The data key each site's records are encrypted under now (bounded by age and record count). */
  private readonly active: EncryptionKeys;
  /** Unwrapped data keys by `site:keyId`, for decryption. */
  private readonly opened: BoundedTtlCache<Buffer>;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: VaultPhiCipherOptions) {
    this.policy = { ...DEFAULT_DATA_KEY_POLICY, ...options.dataKeys };
    this.active = new EncryptionKeys(this.policy, async (site) => {
      const answer = (await this.call(site, 'data-keys', {})) as IssuedKeyAnswer;
      const issued = { keyId: answer.keyId, key: Buffer.from(answer.key, 'base64') };
      if (issued.key.length !== 32) {
        issued.key.fill(0);
        throw new PhiClientError(502, 'bad-response', 'the vault service returned no data key', true, site);
      }
      this.opened.set(`${site}:${issued.keyId}`, Buffer.from(issued.key));
      return { ...issued, wrapped: Buffer.from(answer.wrappedKey, 'base64') };
    });
    this.opened = new BoundedTtlCache<Buffer>(
      this.policy.unwrapCacheSize,
      this.policy.unwrapCacheTtlMs,
      (k) => k.fill(0),
    );
    // Expired keys are zeroed on time even when nothing reads the caches.
    this.sweeper = setInterval(
      () => {
        this.active.sweep();
        this.opened.sweep();
      },
      Math.max(50, Math.min(this.policy.maxAgeMs, this.policy.unwrapCacheTtlMs, 60_000) / 2),
    );
    this.sweeper.unref();
  }

  /** Data keys in memory now (for encryption, for decryption). */
  get cachedKeys(): { encrypt: number; decrypt: number } {
    return { encrypt: this.active.size, decrypt: this.opened.size };
  }

  /**
   * One record, encrypted here under the site's current data key (a new one is issued by the
   * vault service when there is none, or it has reached its age or record limit). Concurrent
   * callers share one issuance.
   */
  async encrypt(site: string, recordId: string, plaintext: Buffer): Promise<Buffer> {
    checkRecordId(site, recordId);
    try {
      return await this.active.use(site, (key, wrapped) =>
        sealRecord(key, wrapped, site, recordId, plaintext),
      );
    } catch (error) {
      if (error instanceof KeyUnavailableError)
        throw new PhiClientError(503, 'busy', error.message, true, site);
      throw error;
    }
  }

  /** Data keys issued to this process so far. */
  get issued(): number {
    return this.active.issued;
  }

  async decrypt(site: string, recordId: string, ciphertext: Buffer): Promise<Buffer> {
    const [opened] = await this.decryptBatch(site, [{ recordId, data: ciphertext }]);
    if (!opened) throw new PhiClientError(502, 'bad-response', 'the vault service returned no item', true);
    return opened;
  }

  /** Encrypted locally; results in the same order. */
  async encryptBatch(site: string, items: Item[]): Promise<Buffer[]> {
    const sealed: Buffer[] = [];
    for (const item of items) sealed.push(await this.encrypt(site, item.recordId, item.data));
    return sealed;
  }

  /**
   * Results in the same order. Records sealed here (format 2) open locally once their data key
   * is unwrapped (one vault service call for all the keys of the batch not in the cache);
   * records sealed by the vault service (format 1) go to its per-record API.
   */
  async decryptBatch(site: string, items: Item[]): Promise<Buffer[]> {
    const results: Buffer[] = new Array<Buffer>(items.length);
    const legacy: number[] = [];
    const local: number[] = [];
    items.forEach((item, index) => {
      checkRecordId(site, item.recordId);
      (formatOf(item.data) === LEGACY_RECORD_FORMAT ? legacy : local).push(index);
    });
    for (let start = 0; start < legacy.length; start += PHI_MAX_BATCH) {
      const chunk = legacy.slice(start, start + PHI_MAX_BATCH);
      const opened = await this.legacyDecrypt(
        site,
        chunk.map((i) => items[i] as Item),
      );
      chunk.forEach((i, k) => (results[i] = opened[k] as Buffer));
    }
    if (local.length > 0) await this.openLocally(site, items, local, results);
    return results;
  }

  private async openLocally(
    site: string,
    items: Item[],
    indexes: number[],
    results: Buffer[],
  ): Promise<void> {
    const wanted = new Map<number, { wrapped: Buffer; keyId: string }>();
    for (const index of indexes) {
      try {
        wanted.set(index, wrappedKeyOf((items[index] as Item).data));
      } catch (error) {
        throw localFailure(error, site, index);
      }
    }
    const fetched = new Map<string, Buffer>();
    try {
      // Two rounds at most: a key evicted from the cache between the look-up and its use is fetched again.
      for (let round = 0; round < 2 && wanted.size > 0; round += 1) {
        const missing = new Map<string, Buffer>();
        for (const { keyId, wrapped } of wanted.values()) {
          if (!fetched.has(keyId) && this.opened.get(`${site}:${keyId}`) === undefined)
            missing.set(keyId, wrapped);
        }
        await this.unwrap(site, missing, fetched);
        for (const [index, { keyId }] of wanted) {
          const key = fetched.get(keyId) ?? this.opened.get(`${site}:${keyId}`);
          if (!key) continue;
          const item = items[index] as Item;
          try {
            results[index] = openRecord(key, site, item.recordId, item.data);
          } catch (error) {
            throw localFailure(error, site, index);
          }
          wanted.delete(index);
        }
      }
      if (wanted.size > 0)
        throw new PhiClientError(503, 'busy', 'data keys could not be kept; retry later', true, site);
    } finally {
      for (const key of fetched.values()) key.fill(0);
    }
  }

  /** Unwraps the given keys (≤ 100 per call) into `into` (copies the caller zeroes) and the cache. */
  private async unwrap(site: string, wrapped: Map<string, Buffer>, into: Map<string, Buffer>): Promise<void> {
    const entries = [...wrapped];
    for (let start = 0; start < entries.length; start += PHI_MAX_BATCH) {
      const chunk = entries.slice(start, start + PHI_MAX_BATCH);
      const answer = (await this.call(site, 'data-keys/unwrap', {
        items: chunk.map(([, w]) => ({ wrappedKey: w.toString('base64') })),
      })) as { items: { key: string }[] };
      chunk.forEach(([keyId], k) => {
        const encoded = answer.items[k]?.key;
        if (!encoded) return;
        const key = Buffer.from(encoded, 'base64');
        into.set(keyId, key);
        this.opened.set(`${site}:${keyId}`, Buffer.from(key));
      });
    }
  }

  private async legacyDecrypt(site: string, items: Item[]): Promise<Buffer[]> {
    const body = {
      items: items.map((i) => ({ recordId: i.recordId, ciphertext: i.data.toString('base64') })),
    };
    const answer = (await this.call(site, 'decrypt', body)) as { items: { plaintext: string }[] };
    return answer.items.map((i) => Buffer.from(i.plaintext, 'base64'));
  }

  /** Zeroes and drops every cached key (shutdown; also after a site's SEK was removed here). */
  forget(site?: string): void {
    if (site === undefined) {
      this.active.forget();
      this.opened.deleteWhere(() => true);
      return;
    }
    this.active.forget(site);
    this.opened.deleteWhere((k) => k.startsWith(`${site}:`));
  }

  close(): void {
    clearInterval(this.sweeper);
    this.forget();
  }

  onModuleDestroy(): void {
    this.close();
  }

  private async call(site: string, operation: string, body: unknown): Promise<unknown> {
    this.calls += 1;
    const token = await this.options.tokens.tokenFor('vault');
    let response: Response;
    try {
      response = await fetch(
        new URL(`/sites/${encodeURIComponent(site)}/phi/${operation}`, this.options.baseUrl),
        {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10000),
        },
      );
    } catch {
      throw new PhiClientError(0, 'unreachable', 'the vault service is not reachable', true, site);
    }
    const answer: unknown = await response.json().catch(() => ({}));
    if (!response.ok) {
      const problem = readProblem(response.status, answer);
      throw new PhiClientError(
        response.status,
        problem.code,
        `PHI ${operation} failed: ${problem.detail}`,
        response.status === 503 || response.status === 502,
        site,
      );
    }
    return answer;
  }
}

function checkRecordId(site: string, recordId: string): void {
  if (!RECORD_ID.test(recordId)) {
    throw new PhiClientError(
      400,
      'invalid_request',
      'recordId: 1 to 200 letters, digits and . _ : / - only',
      false,
      site,
    );
  }
}

/** A record that does not open here: the same answer the vault service gives (422, not retryable). */
function localFailure(error: unknown, site: string, index: number): unknown {
  if (!(error instanceof RecordEnvelopeError)) return error;
  return new PhiClientError(
    422,
    error.code,
    `PHI decrypt failed: item ${index}: ${error.message}`,
    false,
    site,
  );
}
