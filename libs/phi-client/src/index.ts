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

export class VaultPhiCipher implements PhiCipher {
  constructor(private readonly options: VaultPhiCipherOptions) {}

  async encrypt(site: string, recordId: string, plaintext: Buffer): Promise<Buffer> {
    const [sealed] = await this.encryptBatch(site, [{ recordId, data: plaintext }]);
    if (!sealed) throw new PhiClientError(502, 'bad-response', 'the vault service returned no item', true);
    return sealed;
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
