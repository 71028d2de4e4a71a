import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Encrypts PHI (and replayable secrets) at rest, bound to the site and the record it belongs to:
 * a ciphertext moved to another row or site does not decrypt. The SEK issue replaces the
 * development implementation with a call to the `vault` service (envelope encryption under the
 * site's SEK); callers only see this interface.
 */
export interface PhiCipher {
  encrypt(site: string, recordId: string, plaintext: Buffer): Promise<Buffer>;
  decrypt(site: string, recordId: string, ciphertext: Buffer): Promise<Buffer>;
}

export const PHI_CIPHER = Symbol('PHI_CIPHER');

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * DEVELOPMENT ONLY: AES-256-GCM under one key from config (INTAKE_PHI_KEY), site and record id as
 * additional authenticated data. Layout: version(1) | iv(12) | tag(16) | ciphertext.
 */
export class DevelopmentKeyPhiCipher implements PhiCipher {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the development PHI key must be 32 bytes');
  }

  encrypt(site: string, recordId: string, plaintext: Buffer): Promise<Buffer> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(aad(site, recordId));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Promise.resolve(Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]));
  }

  decrypt(site: string, recordId: string, ciphertext: Buffer): Promise<Buffer> {
    if (ciphertext.length < 1 + IV_BYTES + TAG_BYTES || ciphertext[0] !== VERSION) {
      return Promise.reject(new Error('not a ciphertext of this cipher'));
    }
    const iv = ciphertext.subarray(1, 1 + IV_BYTES);
    const tag = ciphertext.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(aad(site, recordId));
    decipher.setAuthTag(tag);
    try {
      const body = ciphertext.subarray(1 + IV_BYTES + TAG_BYTES);
      return Promise.resolve(Buffer.concat([decipher.update(body), decipher.final()]));
    } catch {
      return Promise.reject(new Error('ciphertext does not authenticate for this site and record'));
    }
  }
}

function aad(site: string, recordId: string): Buffer {
  return Buffer.from(`cloud-connect:intake:${site}:${recordId}`, 'utf8');
}
