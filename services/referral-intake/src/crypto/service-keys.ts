import type { VaultClient } from '@cloud-connect/service-kit';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Vault KV v2 path of the key that seals referral-intake's own service secrets. */
export const SERVICE_KEY_PATH = 'secret/data/service/referral-intake/service-secrets-key';
export const SERVICE_KEYS = Symbol('SERVICE_KEYS');

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

interface StoredKey {
  key: string;
  createdAt: string;
}

export class ServiceKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceKeyError';
  }
}

/**
 * Seals referral-intake's own secrets (the private halves of the OAuth access-token signing
 * keys) — service secrets, not any site's PHI, so not under a site's SEK. The AES-256 key lives in
 * Vault KV under this service's own path (created once with check-and-set, so replicas starting
 * together agree; readable only through the referral-intake policy) and is held in memory only.
 * AES-256-GCM with `purpose` and `id` as associated data: a ciphertext moved to another row or
 * purpose does not open. Layout: format(1) | iv(12) | tag(16) | ciphertext.
 */
export class ServiceKeys {
  private key: Promise<Buffer> | undefined;

  constructor(private readonly vault: VaultClient) {}

  async seal(purpose: string, id: string, plaintext: Buffer): Promise<Buffer> {
    const key = await this.load();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad(purpose, id));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT]), iv, cipher.getAuthTag(), body]);
  }

  async open(purpose: string, id: string, sealed: Buffer): Promise<Buffer> {
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT) {
      throw new ServiceKeyError('not sealed with the service key');
    }
    const key = await this.load();
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(aad(purpose, id));
    decipher.setAuthTag(sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw new ServiceKeyError('sealed secret does not open under the service key');
    }
  }

  private load(): Promise<Buffer> {
    this.key ??= (async () => {
      const stored = (await readKey(this.vault)) ?? (await createKey(this.vault));
      const key = Buffer.from(stored.key, 'base64');
      if (key.length !== 32) throw new ServiceKeyError('the service key in Vault is not 32 bytes');
      return key;
    })().catch((error: unknown) => {
      this.key = undefined; // Vault down at first use: try again next time
      throw error;
    });
    return this.key;
  }
}

function aad(purpose: string, id: string): Buffer {
  return Buffer.from(`cloud-connect:referral-intake:${purpose}:${id}`, 'utf8');
}

async function readKey(vault: VaultClient): Promise<StoredKey | null> {
  try {
    const response = (await vault.read(SERVICE_KEY_PATH)) as { data: { data: StoredKey } };
    return response.data.data;
  } catch (error) {
    if ((error as { response?: { statusCode?: number } }).response?.statusCode === 404) return null;
    throw error;
  }
}

async function createKey(vault: VaultClient): Promise<StoredKey> {
  const stored: StoredKey = { key: randomBytes(32).toString('base64'), createdAt: new Date().toISOString() };
  try {
    await vault.write(SERVICE_KEY_PATH, { options: { cas: 0 }, data: stored });
    return stored;
  } catch (error) {
    // Another replica created it first (check-and-set refused): use theirs.
    const existing = await readKey(vault);
    if (existing) return existing;
    throw error;
  }
}
