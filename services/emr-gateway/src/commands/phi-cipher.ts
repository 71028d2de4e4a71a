import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** Sealed command content as it travels in `emr.command` (libs/contracts). */
export interface SealedContent {
  alg: 'A256GCM';
  keyId: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/**
 * Seals and opens PHI for one site. The production implementation belongs to the `vault` service
 * (envelope encryption under keys wrapped by the site's SEK); the gateway depends on this interface only.
 */
export interface PhiCipher {
  seal(siteNumber: string, plaintext: Buffer): Promise<SealedContent>;
  open(siteNumber: string, sealed: SealedContent): Promise<Buffer>;
}

export class PhiCipherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PhiCipherError';
  }
}

/**
 * DEVELOPMENT ONLY: AES-256-GCM under a per-site key derived (HKDF-SHA256) from one shared
 * development secret. It gives the real wire shape and real authenticated encryption, but its
 * keys are not wrapped by the site's SEK: replace it with the vault service's envelope encryption.
 */
export class DevelopmentPhiCipher implements PhiCipher {
  static readonly KEY_ID = 'dev-hkdf-sha256-v1';

  constructor(private readonly secret: string) {
    if (secret.length < 32)
      throw new PhiCipherError('the development PHI key must be at least 32 characters');
  }

  private key(siteNumber: string): Buffer {
    return Buffer.from(
      hkdfSync('sha256', this.secret, `site:${siteNumber}`, 'cloud-connect emr-command content', 32),
    );
  }

  seal(siteNumber: string, plaintext: Buffer): Promise<SealedContent> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key(siteNumber), iv);
    cipher.setAAD(Buffer.from(siteNumber));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Promise.resolve({
      alg: 'A256GCM',
      keyId: DevelopmentPhiCipher.KEY_ID,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    });
  }

  open(siteNumber: string, sealed: SealedContent): Promise<Buffer> {
    if (sealed.keyId !== DevelopmentPhiCipher.KEY_ID) {
      return Promise.reject(new PhiCipherError(`unknown key id ${sealed.keyId}`));
    }
    try {
      const decipher = createDecipheriv(
        'aes-256-gcm',
        this.key(siteNumber),
        Buffer.from(sealed.iv, 'base64'),
      );
      decipher.setAAD(Buffer.from(siteNumber));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      return Promise.resolve(
        Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]),
      );
    } catch {
      return Promise.reject(new PhiCipherError('sealed content does not open for this site'));
    }
  }
}
