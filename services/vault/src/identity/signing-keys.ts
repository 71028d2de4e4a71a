import type { AdminKeyResolver } from '@cloud-connect/auth';
import type { VaultClient } from '@cloud-connect/service-kit';
import { randomUUID } from 'node:crypto';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
  type KeyLike,
} from 'jose';

export const SIGNING_KEY_PATH = 'secret/data/service/vault/admin-token-signing-key';

interface StoredKey {
  kid: string;
  privateJwk: JWK;
  createdAt: string;
}

/**
 * The ES256 key pair that signs admin access tokens. The private key lives in Vault KV (created
 * once, check-and-set so two replicas starting together agree); the public half is served as
 * JWKS so the other services can verify tokens without ever holding the private key.
 */
export class AdminSigningKeys implements AdminKeyResolver {
  private constructor(
    private readonly privateKey: KeyLike,
    readonly kid: string,
    private readonly publicJwks: JSONWebKeySet,
  ) {
    this.localKeySet = createLocalJWKSet(publicJwks);
  }

  private readonly localKeySet: JWTVerifyGetKey;

  static async load(vault: VaultClient): Promise<AdminSigningKeys> {
    const stored = (await readKey(vault)) ?? (await createKey(vault));
    const privateKey = (await importJWK(stored.privateJwk, 'ES256')) as KeyLike;
    const publicJwk: JWK = { ...stored.privateJwk };
    delete publicJwk.d; // the public half only
    return new AdminSigningKeys(privateKey, stored.kid, {
      keys: [{ ...publicJwk, kid: stored.kid, alg: 'ES256', use: 'sig' }],
    });
  }

  get signingKey(): { privateKey: KeyLike; kid: string } {
    return { privateKey: this.privateKey, kid: this.kid };
  }

  get jwks(): JSONWebKeySet {
    return this.publicJwks;
  }

  getKey: JWTVerifyGetKey = (header, token) => this.localKeySet(header, token);
}

async function readKey(vault: VaultClient): Promise<StoredKey | null> {
  try {
    const response = (await vault.read(SIGNING_KEY_PATH)) as { data: { data: StoredKey } };
    return response.data.data;
  } catch (error) {
    if ((error as { response?: { statusCode?: number } }).response?.statusCode === 404) return null;
    throw error;
  }
}

async function createKey(vault: VaultClient): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const stored: StoredKey = {
    kid: randomUUID(),
    privateJwk: await exportJWK(privateKey),
    createdAt: new Date().toISOString(),
  };
  try {
    await vault.write(SIGNING_KEY_PATH, { options: { cas: 0 }, data: stored });
    return stored;
  } catch (error) {
    // Another replica created it first (check-and-set refused): use theirs.
    const existing = await readKey(vault);
    if (existing) return existing;
    throw error;
  }
}
