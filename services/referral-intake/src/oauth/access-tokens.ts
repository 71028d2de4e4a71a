import { assertIdentifier } from '@cloud-connect/db';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
  type KeyLike,
} from 'jose';
import { randomUUID } from 'node:crypto';
import type { ServiceKeys } from '../crypto/service-keys';
import type { Db } from './oauth-clients.repository';

export const ACCESS_TOKEN_ALG = 'ES256';
export const ACCESS_TOKEN_ISSUER = 'cloud-connect/referral-intake';
export const ACCESS_TOKEN_AUDIENCE = 'cloud-connect/fhir';
/** Purpose (associated data) of the sealed signing keys under the service key. */
const KEY_PURPOSE = 'oauth-signing-key';

export interface AccessClaims {
  site: string;
  clientId: string;
  scopes: string[];
}

interface KeyRow {
  kid: string;
  publicJwk: JWK;
  privateCiphertext: Buffer;
  createdAt: Date;
}

/**
 * The keys that sign integrators' access tokens. Private halves are stored in Postgres sealed
 * under referral-intake's own service key, which lives in Vault (never in plaintext; service
 * secrets, so not under any site's SEK); a new key is made when the newest is older
 * than the rotation period, and keys from the last two periods are published and accepted, so a
 * token signed just before a rotation keeps verifying. Service-wide, so not scoped to a site.
 */
export class AccessTokens {
  private signing!: { kid: string; key: KeyLike };
  private jwks: JSONWebKeySet = { keys: [] };
  private keySet!: JWTVerifyGetKey;
  private lastReload = 0;
  private readonly table: string;

  constructor(
    private readonly db: Db,
    schema: string,
    private readonly keys: ServiceKeys,
    private readonly rotationDays: number,
  ) {
    this.table = `"${assertIdentifier(schema)}".oauth_signing_keys`;
  }

  async load(): Promise<this> {
    let rows = await this.rows();
    const newest = rows[0];
    if (!newest || Date.now() - newest.createdAt.getTime() > this.rotationDays * 86400000) {
      await this.create();
      rows = await this.rows();
    }
    const current = rows[0];
    if (!current) throw new Error('no access-token signing key');
    const privateJwk = JSON.parse(
      (await this.keys.open(KEY_PURPOSE, current.kid, current.privateCiphertext)).toString('utf8'),
    ) as JWK;
    this.signing = { kid: current.kid, key: (await importJWK(privateJwk, ACCESS_TOKEN_ALG)) as KeyLike };
    this.jwks = {
      keys: rows.map((r) => ({ ...r.publicJwk, kid: r.kid, alg: ACCESS_TOKEN_ALG, use: 'sig' })),
    };
    this.keySet = createLocalJWKSet(this.jwks);
    this.lastReload = Date.now();
    return this;
  }

  get publicJwks(): JSONWebKeySet {
    return this.jwks;
  }

  async issue(claims: AccessClaims, ttlSeconds: number): Promise<string> {
    return new SignJWT({ site: claims.site, client_id: claims.clientId, scope: claims.scopes.join(' ') })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: this.signing.kid, typ: 'at+jwt' })
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(claims.clientId)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(this.signing.key);
  }

  /** The claims of a valid token, or null (bad signature, expired, wrong issuer or audience). */
  async verify(token: string): Promise<AccessClaims | null> {
    const attempt = () =>
      jwtVerify(token, this.keySet, {
        algorithms: [ACCESS_TOKEN_ALG],
        issuer: ACCESS_TOKEN_ISSUER,
        audience: ACCESS_TOKEN_AUDIENCE,
        typ: 'at+jwt',
      });
    let payload;
    try {
      payload = (await attempt()).payload;
    } catch (error) {
      // A key another replica made since we loaded: reload (at most every 10 s) and try once more.
      if (
        (error as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY' ||
        Date.now() - this.lastReload < 10000
      )
        return null;
      await this.load();
      payload = (await attempt().catch(() => null))?.payload;
      if (!payload) return null;
    }
    const { site, client_id: clientId, scope } = payload as Record<string, unknown>;
    if (typeof site !== 'string' || typeof clientId !== 'string' || typeof scope !== 'string') return null;
    return { site, clientId, scopes: scope.split(' ').filter((s) => s.length > 0) };
  }

  private async create(): Promise<void> {
    const { publicKey, privateKey } = await generateKeyPair(ACCESS_TOKEN_ALG, { extractable: true });
    const kid = randomUUID();
    const ciphertext = await this.keys.seal(
      KEY_PURPOSE,
      kid,
      Buffer.from(JSON.stringify(await exportJWK(privateKey)), 'utf8'),
    );
    await this.db.query(
      `INSERT INTO ${this.table} (kid, alg, public_jwk, private_ciphertext) VALUES ($1, $2, $3, $4)`,
      [kid, ACCESS_TOKEN_ALG, JSON.stringify(await exportJWK(publicKey)), ciphertext],
    );
  }

  private async rows(): Promise<KeyRow[]> {
    const rows: Record<string, unknown>[] = await this.db.query(
      `SELECT kid, public_jwk, private_ciphertext, created_at FROM ${this.table}
        WHERE created_at > now() - make_interval(days => $1) ORDER BY created_at DESC, kid`,
      [this.rotationDays * 2],
    );
    return rows.map((r) => ({
      kid: String(r['kid']),
      publicJwk: r['public_jwk'] as JWK,
      privateCiphertext: r['private_ciphertext'] as Buffer,
      createdAt: r['created_at'] as Date,
    }));
  }
}
