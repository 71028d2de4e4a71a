import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import type { ServicePrincipal } from './principal';
import { InvalidTokenError } from './admin-tokens';

const SERVICE_TOKEN_ISSUER = 'cloud-connect/service';
const SERVICE_TOKEN_TTL_SECONDS = 60;
const SERVICE_TOKEN_TYPE = 'svc+jwt';

function audienceOf(service: string): string {
  return `cloud-connect/${service}`;
}

/**
 * A service's own signing key (Ed25519) and the public keys of every service it accepts calls
 * from, as configured: `SERVICE_SIGNING_KEY` (PKCS#8 PEM) or `SERVICE_SIGNING_KEY_FILE`, and
 * `SERVICE_PUBLIC_KEYS` (a JWK Set) or `SERVICE_PUBLIC_KEYS_FILE`. Each public key's `kid` is the
 * service's name, or `<service>.<suffix>` while a key is rotated (the old and the new key side by
 * side); a token's `kid` names the key it was signed with.
 */
export interface ServiceKeyConfig {
  SERVICE_SIGNING_KEY?: string | undefined;
  SERVICE_SIGNING_KEY_FILE?: string | undefined;
  /** The `kid` this service signs with (default: its name). */
  SERVICE_SIGNING_KEY_ID?: string | undefined;
  SERVICE_PUBLIC_KEYS?: string | undefined;
  SERVICE_PUBLIC_KEYS_FILE?: string | undefined;
}

/** A configuration problem with the service keys: the message names the variable, never the key. */
export class ServiceKeyConfigError extends Error {
  override readonly name = 'ServiceKeyConfigError';
}

function textOf(config: ServiceKeyConfig, name: 'SERVICE_SIGNING_KEY' | 'SERVICE_PUBLIC_KEYS'): string {
  const inline = config[name];
  const file = config[`${name}_FILE`];
  if (inline && file) throw new ServiceKeyConfigError(`set ${name} or ${name}_FILE, not both`);
  // A PEM in one line (an env file's `\n` escapes) is the same PEM.
  if (inline) return inline.includes('\n') ? inline : inline.replaceAll('\\n', '\n');
  if (!file) throw new ServiceKeyConfigError(`${name} or ${name}_FILE is required`);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ServiceKeyConfigError(`${name}_FILE cannot be read (${code})`);
  }
}

/** The service part of a key id: `notifier` and `notifier.2026-01` both belong to `notifier`. */
export function serviceOfKeyId(kid: string): string {
  const dot = kid.indexOf('.');
  return dot < 0 ? kid : kid.slice(0, dot);
}

function isEd25519(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ed25519';
}

/** The Ed25519 private key a service signs its tokens with. */
export function loadServiceSigningKey(serviceName: string, config: ServiceKeyConfig): ServiceSigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(textOf(config, 'SERVICE_SIGNING_KEY'));
  } catch (error) {
    if (error instanceof ServiceKeyConfigError) throw error;
    throw new ServiceKeyConfigError('SERVICE_SIGNING_KEY is not a PEM private key');
  }
  if (!isEd25519(key)) throw new ServiceKeyConfigError('SERVICE_SIGNING_KEY must be an Ed25519 key');
  const kid = config.SERVICE_SIGNING_KEY_ID ?? serviceName;
  if (serviceOfKeyId(kid) !== serviceName)
    throw new ServiceKeyConfigError(
      `SERVICE_SIGNING_KEY_ID must be ${serviceName} or ${serviceName}.<suffix>`,
    );
  return { key, kid };
}

export interface ServiceSigningKey {
  key: KeyObject;
  kid: string;
}

/** Key id → Ed25519 public key, from the configured JWK Set. */
export type ServicePublicKeys = ReadonlyMap<string, KeyObject>;

export function loadServicePublicKeys(config: ServiceKeyConfig): ServicePublicKeys {
  const text = textOf(config, 'SERVICE_PUBLIC_KEYS');
  let set: unknown;
  try {
    set = JSON.parse(text);
  } catch {
    throw new ServiceKeyConfigError('SERVICE_PUBLIC_KEYS is not JSON (a JWK Set: {"keys":[…]})');
  }
  const keys = (set as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0)
    throw new ServiceKeyConfigError('SERVICE_PUBLIC_KEYS must be a JWK Set with at least one key');
  const map = new Map<string, KeyObject>();
  keys.forEach((jwk: JsonWebKey & { kid?: unknown; d?: unknown }, index) => {
    if (typeof jwk.kid !== 'string' || !/^[a-z][a-z0-9-]*(\.[A-Za-z0-9_-]+)?$/.test(jwk.kid))
      throw new ServiceKeyConfigError(
        `SERVICE_PUBLIC_KEYS key ${index} needs a kid: <service> or <service>.<suffix>`,
      );
    if (jwk.d !== undefined)
      throw new ServiceKeyConfigError(
        `SERVICE_PUBLIC_KEYS key ${jwk.kid} holds a private key: publish public keys only`,
      );
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk, format: 'jwk' });
    } catch {
      throw new ServiceKeyConfigError(`SERVICE_PUBLIC_KEYS key ${jwk.kid} is not a valid JWK`);
    }
    if (!isEd25519(key))
      throw new ServiceKeyConfigError(`SERVICE_PUBLIC_KEYS key ${jwk.kid} must be Ed25519 (OKP)`);
    if (map.has(jwk.kid)) throw new ServiceKeyConfigError(`SERVICE_PUBLIC_KEYS lists ${jwk.kid} twice`);
    map.set(jwk.kid, key);
  });
  return map;
}

/** A public key as a JWK Set entry (what an operator publishes in SERVICE_PUBLIC_KEYS). */
export function publicJwkOf(
  kid: string,
  key: KeyObject,
): JsonWebKey & { kid: string; alg: string; use: string } {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: 'EdDSA', use: 'sig' };
}

/**
 * Short-lived EdDSA (Ed25519) tokens for service-to-service calls, each service signing with its
 * own private key: the caller is the subject (and its key's `kid`), the callee the audience, so a
 * token minted for `vault` is refused by `emr-gateway`, and a token naming another service as its
 * subject does not verify under that service's public key. In the cluster this sits beside mTLS;
 * it is never "trusted because internal".
 */
export class ServiceTokenIssuer {
  private readonly signing: ServiceSigningKey;
  private readonly cache = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    private readonly serviceName: string,
    signing: ServiceSigningKey | ServiceKeyConfig,
  ) {
    this.signing = 'key' in signing ? signing : loadServiceSigningKey(serviceName, signing);
  }

  async tokenFor(audienceService: string): Promise<string> {
    const cached = this.cache.get(audienceService);
    if (cached && cached.expiresAt - Date.now() > 15000) return cached.token;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', typ: SERVICE_TOKEN_TYPE, kid: this.signing.kid })
      .setIssuer(SERVICE_TOKEN_ISSUER)
      .setSubject(this.serviceName)
      .setAudience(audienceOf(audienceService))
      .setIssuedAt()
      .setExpirationTime(`${SERVICE_TOKEN_TTL_SECONDS}s`)
      .sign(this.signing.key);
    this.cache.set(audienceService, { token, expiresAt: Date.now() + SERVICE_TOKEN_TTL_SECONDS * 1000 });
    return token;
  }
}

export class ServiceTokenVerifier {
  private readonly keys: ServicePublicKeys;

  constructor(
    private readonly serviceName: string,
    keys: ServicePublicKeys | ServiceKeyConfig,
  ) {
    this.keys = keys instanceof Map ? keys : loadServicePublicKeys(keys as ServiceKeyConfig);
  }

  /**
   * Accepts a token only when its signature verifies under the published key its `kid` names and
   * that key belongs to the service named in `sub`: one service's key cannot speak for another.
   * A valid signature by one service naming another is a ServiceIdentityMismatchError (the signer
   * is known: a 403 attributed to it); anything else is an InvalidTokenError (401).
   */
  async verify(token: string): Promise<ServicePrincipal> {
    let signer: string;
    let subject: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== 'EdDSA' || header.typ !== SERVICE_TOKEN_TYPE) throw new Error('not a service token');
      const key = typeof header.kid === 'string' ? this.keys.get(header.kid) : undefined;
      if (!key || typeof header.kid !== 'string') throw new Error('unknown service key');
      const { payload } = await jwtVerify(token, key, {
        issuer: SERVICE_TOKEN_ISSUER,
        audience: audienceOf(this.serviceName),
        algorithms: ['EdDSA'],
        typ: SERVICE_TOKEN_TYPE,
        clockTolerance: 5,
        maxTokenAge: `${SERVICE_TOKEN_TTL_SECONDS + 5}s`,
      });
      signer = serviceOfKeyId(header.kid);
      subject = payload.sub;
    } catch (error) {
      throw new InvalidTokenError(error instanceof Error ? error.name : 'invalid token');
    }
    if (subject !== signer) throw new ServiceIdentityMismatchError(signer, subject ?? '');
    return { kind: 'service', service: signer };
  }
}

/** A token correctly signed by `signer` that names another service (`claimed`) as its subject. */
export class ServiceIdentityMismatchError extends Error {
  override readonly name = 'ServiceIdentityMismatchError';
  constructor(
    readonly signer: string,
    readonly claimed: string,
  ) {
    super(`a token signed by ${signer} names ${claimed || 'no service'} as its subject`);
  }
}

/** The five services' names, as they sign (`sub`) and as route rules name them. */
export const SERVICE_IDENTITIES = [
  'vault',
  'emr-gateway',
  'referral-intake',
  'scheduler',
  'notifier',
] as const;

export interface ServiceKeyFiles {
  /** Service → its private key file (`<service>.key.pem`, mode 600). */
  privateKeys: Record<string, string>;
  /** The JWK Set of every service's public key (`service-public-keys.json`). */
  publicKeys: string;
}

/**
 * Creates what is missing in `dir`: one Ed25519 private key per service (PKCS#8 PEM, mode 600)
 * and the JWK Set of their public keys (rewritten from the private keys each time). Keys already
 * there are kept, so running it again changes nothing.
 */
export function writeServiceKeyFiles(
  dir: string,
  services: readonly string[] = SERVICE_IDENTITIES,
): ServiceKeyFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const privateKeys: Record<string, string> = {};
  const jwks = services.map((service) => {
    const file = join(dir, `${service}.key.pem`);
    if (!existsSync(file)) {
      const { privateKey } = generateKeyPairSync('ed25519');
      writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    }
    privateKeys[service] = file;
    return publicJwkOf(service, createPrivateKey(readFileSync(file)));
  });
  const publicKeys = join(dir, 'service-public-keys.json');
  writeFileSync(publicKeys, `${JSON.stringify({ keys: jwks }, null, 2)}\n`, { mode: 0o644 });
  return { privateKeys, publicKeys };
}
