import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * A record sealed locally under a data key the vault service issued (format 2). The wrapped data
 * key travels with the record, so any holder can ask the vault service to unwrap it; the vault
 * service never sees the record.
 *
 * Layout:
 *   0       1 byte   format (2)
 *   1      89 bytes  the wrapped data key, as issued (format 0x10, SEK version at 1..5,
 *                    key id at 13..29; opaque otherwise)
 *   90     12 bytes  IV (random per record)
 *   102     n bytes  AES-256-GCM ciphertext
 *   102+n  16 bytes  tag
 * Associated data: the site number, the record id and bytes 0..90, so a record moved to another
 * row or site, or given another wrapped key, does not open.
 *
 * Format 1 (the first byte 1) is a record the vault service sealed itself (per-record API); it
 * is opened by that API.
 */
export const RECORD_FORMAT = 2;
export const LEGACY_RECORD_FORMAT = 1;
const WRAPPED_KEY_FORMAT = 0x10;
export const WRAPPED_KEY_BYTES = 89;
const HEADER = 1 + WRAPPED_KEY_BYTES;
const IV_END = HEADER + 12;
const TAG = 16;

/** What a record id may be (the same rule as the vault service's API): it is associated data. */
export const RECORD_ID = /^[A-Za-z0-9._:/-]{1,200}$/;

export class RecordEnvelopeError extends Error {
  constructor(readonly code: 'malformed' | 'not-authentic') {
    super(
      code === 'malformed'
        ? 'ciphertext is not a Cloud Connect PHI envelope'
        : 'ciphertext does not authenticate for this site and record',
    );
    this.name = 'RecordEnvelopeError';
  }
}

/** The data key a record needs: its wrapped form and its id (hex), read from the record. */
export function wrappedKeyOf(record: Buffer): { wrapped: Buffer; keyId: string; sekVersion: number } {
  if (record.length < IV_END + TAG || record[0] !== RECORD_FORMAT || record[1] !== WRAPPED_KEY_FORMAT) {
    throw new RecordEnvelopeError('malformed');
  }
  const wrapped = record.subarray(1, HEADER);
  return { wrapped, keyId: keyIdOf(wrapped), sekVersion: wrapped.readUInt32BE(1) };
}

/** The key id (hex) of a wrapped data key. */
export function keyIdOf(wrapped: Buffer): string {
  if (wrapped.length !== WRAPPED_KEY_BYTES || wrapped[0] !== WRAPPED_KEY_FORMAT) {
    throw new RecordEnvelopeError('malformed');
  }
  return wrapped.subarray(13, 29).toString('hex');
}

function associatedData(site: string, recordId: string, header: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`cc-phi|record|site:${site}|record:${recordId}|`), header]);
}

export function sealRecord(
  key: Buffer,
  wrapped: Buffer,
  site: string,
  recordId: string,
  plaintext: Buffer,
): Buffer {
  const header = Buffer.allocUnsafe(HEADER);
  header[0] = RECORD_FORMAT;
  wrapped.copy(header, 1);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(associatedData(site, recordId, header));
  const body = cipher.update(plaintext);
  const last = cipher.final();
  return Buffer.concat([header, iv, body, last, cipher.getAuthTag()]);
}

export function openRecord(key: Buffer, site: string, recordId: string, record: Buffer): Buffer {
  wrappedKeyOf(record);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, record.subarray(HEADER, IV_END));
    decipher.setAAD(associatedData(site, recordId, record.subarray(0, HEADER)));
    decipher.setAuthTag(record.subarray(record.length - TAG));
    return Buffer.concat([decipher.update(record.subarray(IV_END, record.length - TAG)), decipher.final()]);
  } catch {
    throw new RecordEnvelopeError('not-authentic');
  }
}

/** Which format a stored ciphertext is (2: sealed locally; 1: sealed by the vault service). */
export function formatOf(record: Buffer): number | undefined {
  return record[0];
}
