import type { AdminKeyResolver } from '@cloud-connect/auth';
import type { VaultClient } from '@cloud-connect/service-kit';
import { randomUUID } from 'node:crypto';
import {
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
  type KeyLike,
} from 'jose';

export const SIGNING_KEY_PATH = 'secret/data/service/vault/admin-token-signing-key';

interface RetiredKey {
  kid: string;
  publicJwk: JWK;
  retiredAt: string;
}

/** What Vault KV holds: the current private key and the public halves of the keys it replaced. */
interface StoredKeySet {
  kid: string;
  privateJwk: JWK;
  createdAt: string;
  previous?: RetiredKey[];
}

export interface SigningKeySettings {
  /** A key older than this is replaced (checked at start-up and every `checkSeconds`). */
  maxAgeSeconds: number;
  /** How long a replaced key still verifies tokens (at least the access-token lifetime). */
  overlapSeconds: number;
  /** How often the key set is read again from Vault (another replica may have rotated it). */
  checkSeconds: number;
}

function publicHalf(privateJwk: JWK): JWK {
  const jwk: JWK = { ...privateJwk };
  delete jwk.d;
  return jwk;
}

/**
 * The ES256 keys that sign admin access tokens. The current private key lives in Vault KV with
 * the public halves of the keys it replaced (written check-and-set, so replicas agree); tokens
 * name their key (`kid`). A key is replaced when it is older than `maxAgeSeconds` or when an
 * operator rotates it; the replaced key still verifies tokens for `overlapSeconds` (so tokens
 * issued just before the rotation keep working until they expire), then it is gone from the
 * JWKS and from verification here.
 */
export class AdminSigningKeys implements AdminKeyResolver {
  private loaded = false;
  private stored!: StoredKeySet;
  private version = 0;
  private privateKey!: KeyLike;
  private readonly publicKeys = new Map<string, KeyLike>();
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly vault: VaultClient,
    private readonly settings: SigningKeySettings,
    private readonly now: () => number,
  ) {}

  static async load(
    vault: VaultClient,
    settings: SigningKeySettings,
    now: () => number = Date.now,
  ): Promise<AdminSigningKeys> {
    const keys = new AdminSigningKeys(vault, settings, now);
    await keys.refresh();
    await keys.rotateIfOld();
    return keys;
  }

  /** Re-reads the key set from Vault and rotates an old key, every `checkSeconds` (unref'd timer). */
  startSchedule(onError: (error: unknown) => void): void {
    this.timer ??= setInterval(() => {
      this.refresh()
        .then(() => this.rotateIfOld())
        .catch(onError);
    }, this.settings.checkSeconds * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    this.stopSchedule();
  }

  stopSchedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get kid(): string {
    return this.stored.kid;
  }

  get signingKey(): { privateKey: KeyLike; kid: string } {
    return { privateKey: this.privateKey, kid: this.stored.kid };
  }

  /** The current key and the replaced keys still within their overlap. */
  get jwks(): JSONWebKeySet {
    return {
      keys: [
        { ...publicHalf(this.stored.privateJwk), kid: this.stored.kid, alg: 'ES256', use: 'sig' },
        ...this.liveRetired().map((k) => ({ ...k.publicJwk, kid: k.kid, alg: 'ES256', use: 'sig' })),
      ],
    };
  }

  /** Kids of the replaced keys still accepted, with when they stop being accepted. */
  get retired(): { kid: string; acceptedUntil: string }[] {
    return this.liveRetired().map((k) => ({
      kid: k.kid,
      acceptedUntil: new Date(Date.parse(k.retiredAt) + this.settings.overlapSeconds * 1000).toISOString(),
    }));
  }

  getKey: JWTVerifyGetKey = async (header) => {
    const kid = header.kid;
    const jwk =
      kid === this.stored.kid
        ? publicHalf(this.stored.privateJwk)
        : this.liveRetired().find((k) => k.kid === kid)?.publicJwk;
    if (!kid || !jwk) throw new errors.JWKSNoMatchingKey();
    let key = this.publicKeys.get(kid);
    if (!key) {
      key = (await importJWK(jwk, 'ES256')) as KeyLike;
      this.publicKeys.set(kid, key);
    }
    return key;
  };

  /** Replaces the signing key now (an operator action, or the schedule); returns the new kid. */
  async rotate(): Promise<string> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await this.refresh();
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const at = new Date(this.now()).toISOString();
      const next: StoredKeySet = {
        kid: randomUUID(),
        privateJwk: await exportJWK(privateKey),
        createdAt: at,
        previous: [
          { kid: this.stored.kid, publicJwk: publicHalf(this.stored.privateJwk), retiredAt: at },
          ...this.liveRetired(),
        ],
      };
      try {
        await this.vault.write(SIGNING_KEY_PATH, { options: { cas: this.version }, data: next });
        await this.refresh();
        return this.stored.kid;
      } catch (error) {
        // Another replica rotated at the same moment (check-and-set refused): read theirs, retry.
        if ((error as { response?: { statusCode?: number } }).response?.statusCode !== 400) throw error;
      }
    }
    throw new Error('the signing key could not be rotated: the key set kept changing');
  }

  private async rotateIfOld(): Promise<void> {
    if (this.now() - Date.parse(this.stored.createdAt) > this.settings.maxAgeSeconds * 1000) {
      await this.rotate();
    }
  }

  private liveRetired(): RetiredKey[] {
    const cutoff = this.now() - this.settings.overlapSeconds * 1000;
    return (this.stored.previous ?? []).filter((k) => Date.parse(k.retiredAt) > cutoff);
  }

  private async refresh(): Promise<void> {
    const read = (await readKeySet(this.vault)) ?? (await createKeySet(this.vault, this.now));
    if (this.loaded && read.version === this.version) return;
    this.privateKey = (await importJWK(read.data.privateJwk, 'ES256')) as KeyLike;
    this.stored = read.data;
    this.version = read.version;
    this.loaded = true;
  }
}

async function readKeySet(vault: VaultClient): Promise<{ data: StoredKeySet; version: number } | null> {
  try {
    const response = (await vault.read(SIGNING_KEY_PATH)) as {
      data: { data: StoredKeySet; metadata?: { version?: number } };
    };
    return { data: response.data.data, version: response.data.metadata?.version ?? 1 };
  } catch (error) {
    if ((error as { response?: { statusCode?: number } }).response?.statusCode === 404) return null;
    throw error;
  }
}

async function createKeySet(
  vault: VaultClient,
  now: () => number,
): Promise<{ data: StoredKeySet; version: number }> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const stored: StoredKeySet = {
    kid: randomUUID(),
    privateJwk: await exportJWK(privateKey),
    createdAt: new Date(now()).toISOString(),
    previous: [],
  };
  try {
    await vault.write(SIGNING_KEY_PATH, { options: { cas: 0 }, data: stored });
    return { data: stored, version: 1 };
  } catch (error) {
    // Another replica created it first (check-and-set refused): use theirs.
    const existing = await readKeySet(vault);
    if (existing) return existing;
    throw error;
  }
}
