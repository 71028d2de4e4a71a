/**
 * The vault service's PHI envelope encryption, for the services that hold PHI (mechanism only:
 * an HTTP call with a service token). The SEK never leaves `vault`; this client only ever sees
 * ciphertext and the caller's own plaintext.
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

export interface VaultPhiCipherOptions {
  /** Base URL of the vault service, e.g. http://vault:3003. */
  baseUrl: string;
  tokens: ServiceTokenSource;
  timeoutMs?: number;
}

interface Item {
  recordId: string;
  data: Buffer;
}

/** The vault service's limit of records per call. */
export const PHI_MAX_BATCH = 100;
/** Calls in flight per site before further single encryptions wait to go together in one batch. */
const MAX_IN_FLIGHT_PER_SITE = 2;

interface Waiting {
  item: Item;
  resolve: (sealed: Buffer) => void;
  reject: (error: unknown) => void;
}

export class VaultPhiCipher implements PhiCipher {
  /** HTTP calls made so far (a test and a metric can see the coalescing work). */
  calls = 0;
  private readonly queues = new Map<string, { inFlight: number; waiting: Waiting[] }>();

  constructor(private readonly options: VaultPhiCipherOptions) {}

  /**
   * One record. Concurrent single encryptions for the same site coalesce: while calls are in
   * flight for the site, the next ones wait and then go together as one batch call (one HTTP
   * round trip and one audit entry at the vault service instead of one each). Alone, a call goes
   * at once, so a quiet sender pays no added latency.
   */
  encrypt(site: string, recordId: string, plaintext: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      let queue = this.queues.get(site);
      if (!queue) {
        queue = { inFlight: 0, waiting: [] };
        this.queues.set(site, queue);
      }
      queue.waiting.push({ item: { recordId, data: plaintext }, resolve, reject });
      this.drain(site);
    });
  }

  private drain(site: string): void {
    const queue = this.queues.get(site);
    if (!queue) return;
    while (queue.inFlight < MAX_IN_FLIGHT_PER_SITE && queue.waiting.length > 0) {
      const batch = queue.waiting.splice(0, PHI_MAX_BATCH);
      queue.inFlight += 1;
      void this.sendBatch(site, batch).finally(() => {
        queue.inFlight -= 1;
        if (queue.inFlight === 0 && queue.waiting.length === 0) this.queues.delete(site);
        else this.drain(site);
      });
    }
  }

  private async sendBatch(site: string, batch: Waiting[]): Promise<void> {
    try {
      const sealed = await this.encryptBatch(
        site,
        batch.map((w) => w.item),
      );
      batch.forEach((w, i) => {
        const one = sealed[i];
        if (one) w.resolve(one);
        else
          w.reject(new PhiClientError(502, 'bad-response', 'the vault service returned no item', true, site));
      });
    } catch (error) {
      // A refusal about one record (its id) must not fail the others: retry them one by one.
      if (batch.length > 1 && error instanceof PhiClientError && error.status === 400) {
        await Promise.all(batch.map((w) => this.sendBatch(site, [w])));
        return;
      }
      for (const w of batch) w.reject(error);
    }
  }

  async decrypt(site: string, recordId: string, ciphertext: Buffer): Promise<Buffer> {
    const [opened] = await this.decryptBatch(site, [{ recordId, data: ciphertext }]);
    if (!opened) throw new PhiClientError(502, 'bad-response', 'the vault service returned no item', true);
    return opened;
  }

  /** Up to 100 records per call; results in the same order. */
  async encryptBatch(site: string, items: Item[]): Promise<Buffer[]> {
    const body = {
      items: items.map((i) => ({ recordId: i.recordId, plaintext: i.data.toString('base64') })),
    };
    const answer = (await this.call(site, 'encrypt', body)) as { items: { ciphertext: string }[] };
    return answer.items.map((i) => Buffer.from(i.ciphertext, 'base64'));
  }

  async decryptBatch(site: string, items: Item[]): Promise<Buffer[]> {
    const body = {
      items: items.map((i) => ({ recordId: i.recordId, ciphertext: i.data.toString('base64') })),
    };
    const answer = (await this.call(site, 'decrypt', body)) as { items: { plaintext: string }[] };
    return answer.items.map((i) => Buffer.from(i.plaintext, 'base64'));
  }

  private async call(site: string, operation: 'encrypt' | 'decrypt', body: unknown): Promise<unknown> {
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
    const answer = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
    if (!response.ok) {
      throw new PhiClientError(
        response.status,
        answer.error ?? `http-${response.status}`,
        `PHI ${operation} failed: ${answer.message ?? response.statusText}`,
        response.status === 503 || response.status === 502,
        site,
      );
    }
    return answer;
  }
}
