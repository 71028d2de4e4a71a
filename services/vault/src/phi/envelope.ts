import { domainErrorClass } from '@cloud-connect/errors';
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/**
 * PHI envelope encryption. Each record gets a fresh 256-bit data key; the record is sealed with
 * AES-256-GCM under it, and the data key is sealed (AES-256-GCM) under a key-encryption key (KEK)
 * derived with HKDF-SHA256 from the site's SEK and SEK version. Both seals authenticate the site
 * number, the record id and the header as associated data, so a ciphertext moved to another
 * site or record fails to open.
 *
 * Layout (all big-endian):
 *   0      1 byte   format (1)
 *   1      4 bytes  SEK version (the KV v2 version that encrypted this record)
 *   5      8 bytes  KEK id (HMAC of the KEK: tells a wrong key from tampering)
 *   13    12 bytes  wrap IV
 *   25    32 bytes  wrapped data key
 *   57    16 bytes  wrap tag
 *   73    12 bytes  data IV
 *   85     n bytes  ciphertext
 *   85+n  16 bytes  data tag
 */
export const FORMAT = 1;
const HEADER = 13;
const OVERHEAD = 85 + 16;

export type EnvelopeErrorCode = 'malformed' | 'wrong-key' | 'not-authentic';

/** Ciphertext that does not open: not an envelope, another key version, or tampered. */
export class EnvelopeError extends domainErrorClass<EnvelopeErrorCode>('phi', {
  malformed: 'unprocessable',
  'wrong-key': 'unprocessable',
  'not-authentic': 'unprocessable',
}) {
  constructor(code: EnvelopeErrorCode) {
    super(
      code,
      code === 'malformed'
        ? 'ciphertext is not a Cloud Connect PHI envelope'
        : code === 'wrong-key'
          ? 'ciphertext was not sealed under this site key version'
          : 'ciphertext does not authenticate for this site and record',
    );
  }
}

export interface Kek {
  key: Buffer;
  id: Buffer;
  version: number;
}

/** KEK for one site and SEK version. The SEK bytes never leave this process. */
export function deriveKek(sek: Buffer, site: string, version: number): Kek {
  const key = Buffer.from(
    hkdfSync('sha256', sek, 'cloud-connect/phi-kek/v1', `site:${site}|sek-version:${version}`, 32),
  );
  const id = createHmac('sha256', key).update('kek-id').digest().subarray(0, 8);
  return { key, id, version };
}

function context(site: string, recordId: string, header: Buffer, purpose: 'wrap' | 'data'): Buffer {
  return Buffer.concat([Buffer.from(`cc-phi|${purpose}|site:${site}|record:${recordId}|`), header]);
}

/** Reads the SEK version a ciphertext was sealed under (to fetch the right KEK). */
export function sekVersionOf(ciphertext: Buffer): number {
  if (ciphertext.length < OVERHEAD || ciphertext[0] !== FORMAT) throw new EnvelopeError('malformed');
  return ciphertext.readUInt32BE(1);
}

export function seal(kek: Kek, site: string, recordId: string, plaintext: Buffer): Buffer {
  const header = Buffer.alloc(HEADER);
  header[0] = FORMAT;
  header.writeUInt32BE(kek.version, 1);
  kek.id.copy(header, 5);
  const dataKey = randomBytes(32);
  try {
    const wrapIv = randomBytes(12);
    const wrap = createCipheriv('aes-256-gcm', kek.key, wrapIv);
    wrap.setAAD(context(site, recordId, header, 'wrap'));
    const wrapped = Buffer.concat([wrap.update(dataKey), wrap.final()]);
    const dataIv = randomBytes(12);
    const data = createCipheriv('aes-256-gcm', dataKey, dataIv);
    data.setAAD(context(site, recordId, header, 'data'));
    const body = Buffer.concat([data.update(plaintext), data.final()]);
    return Buffer.concat([header, wrapIv, wrapped, wrap.getAuthTag(), dataIv, body, data.getAuthTag()]);
  } finally {
    dataKey.fill(0);
  }
}

export function open(kek: Kek, site: string, recordId: string, ciphertext: Buffer): Buffer {
  if (sekVersionOf(ciphertext) !== kek.version) throw new EnvelopeError('wrong-key');
  const header = ciphertext.subarray(0, HEADER);
  if (!timingSafeEqual(header.subarray(5, 13), kek.id)) throw new EnvelopeError('wrong-key');
  const wrapIv = ciphertext.subarray(13, 25);
  const wrapped = ciphertext.subarray(25, 57);
  const wrapTag = ciphertext.subarray(57, 73);
  const dataIv = ciphertext.subarray(73, 85);
  const body = ciphertext.subarray(85, ciphertext.length - 16);
  const dataTag = ciphertext.subarray(ciphertext.length - 16);
  let dataKey: Buffer | undefined;
  try {
    const unwrap = createDecipheriv('aes-256-gcm', kek.key, wrapIv);
    unwrap.setAAD(context(site, recordId, header, 'wrap'));
    unwrap.setAuthTag(wrapTag);
    dataKey = Buffer.concat([unwrap.update(wrapped), unwrap.final()]);
    const data = createDecipheriv('aes-256-gcm', dataKey, dataIv);
    data.setAAD(context(site, recordId, header, 'data'));
    data.setAuthTag(dataTag);
    return Buffer.concat([data.update(body), data.final()]);
  } catch {
    throw new EnvelopeError('not-authentic');
  } finally {
    dataKey?.fill(0);
  }
}

/**
 * Data keys for envelope encryption where the data lives: the vault service issues a fresh
 * 256-bit data key and the same key wrapped (AES-256-GCM) under the site's KEK; the caller
 * encrypts records locally with it and stores the wrapped key with each record. Unwrapping needs
 * the KEK of the SEK version in the wrapped key, so only this service can open it.
 *
 * Wrapped data key layout (89 bytes, big-endian):
 *   0      1 byte   format (0x10)
 *   1      4 bytes  SEK version
 *   5      8 bytes  KEK id
 *   13    16 bytes  key id (random; names the key in caches and audit entries)
 *   29    12 bytes  wrap IV
 *   41    32 bytes  wrapped data key
 *   73    16 bytes  wrap tag
 * The site number and bytes 0..29 are the associated data: a wrapped key of another site does
 * not unwrap.
 */
export const WRAPPED_KEY_FORMAT = 0x10;
export const WRAPPED_KEY_BYTES = 89;
const WRAPPED_HEADER = 29;

export interface IssuedDataKey {
  keyId: Buffer;
  /** The plaintext data key: the caller zeroes it when done. */
  key: Buffer;
  wrapped: Buffer;
  sekVersion: number;
}

function dataKeyContext(site: string, header: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`cc-phi|data-key|site:${site}|`), header]);
}

export function issueDataKey(kek: Kek, site: string): IssuedDataKey {
  const header = Buffer.alloc(WRAPPED_HEADER);
  header[0] = WRAPPED_KEY_FORMAT;
  header.writeUInt32BE(kek.version, 1);
  kek.id.copy(header, 5);
  const keyId = randomBytes(16);
  keyId.copy(header, 13);
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const wrap = createCipheriv('aes-256-gcm', kek.key, iv);
  wrap.setAAD(dataKeyContext(site, header));
  const wrapped = Buffer.concat([wrap.update(key), wrap.final()]);
  return {
    keyId,
    key,
    wrapped: Buffer.concat([header, iv, wrapped, wrap.getAuthTag()]),
    sekVersion: kek.version,
  };
}

/** The SEK version a wrapped data key was made under (to fetch the right KEK). */
export function sekVersionOfWrappedKey(wrapped: Buffer): number {
  if (wrapped.length !== WRAPPED_KEY_BYTES || wrapped[0] !== WRAPPED_KEY_FORMAT) {
    throw new EnvelopeError('malformed');
  }
  return wrapped.readUInt32BE(1);
}

/** The plaintext data key (the caller zeroes it when done). */
export function unwrapDataKey(kek: Kek, site: string, wrapped: Buffer): Buffer {
  if (sekVersionOfWrappedKey(wrapped) !== kek.version) throw new EnvelopeError('wrong-key');
  const header = wrapped.subarray(0, WRAPPED_HEADER);
  if (!timingSafeEqual(header.subarray(5, 13), kek.id)) throw new EnvelopeError('wrong-key');
  try {
    const unwrap = createDecipheriv('aes-256-gcm', kek.key, wrapped.subarray(29, 41));
    unwrap.setAAD(dataKeyContext(site, header));
    unwrap.setAuthTag(wrapped.subarray(73, 89));
    return Buffer.concat([unwrap.update(wrapped.subarray(41, 73)), unwrap.final()]);
  } catch {
    throw new EnvelopeError('not-authentic');
  }
}
