import { domainErrorClass } from '@cloud-connect/errors';
import { PhiClientError, type PhiCipher as EnvelopeCipher } from '@cloud-connect/phi-client';

/** Algorithm tag of sealed command content: the vault service's PHI envelope, format 1. */
export const SEALED_ALG = 'cc-phi-envelope-v1';

/** Sealed command content as it travels in `emr.command` (libs/contracts `emrCommandV1.sealed`). */
export interface SealedContent {
  alg: typeof SEALED_ALG;
  /** The vault service's envelope (base64): SEK version, wrapped data key, AES-256-GCM ciphertext. */
  envelope: string;
}

/** The record id the envelope is bound to (with the site): producer and gateway both know it. */
export function commandRecordId(commandId: string): string {
  return `emr-command/${commandId}`;
}

/**
 * Seals and opens a command's content for one site through the vault service's envelope
 * encryption (keys derived from the site's SEK; site and `emr-command/<commandId>` authenticated
 * as associated data, so content moved to another site or command does not open).
 */
export interface PhiCipher {
  seal(siteNumber: string, commandId: string, plaintext: Buffer): Promise<SealedContent>;
  open(siteNumber: string, commandId: string, sealed: SealedContent): Promise<Buffer>;
}

export type CommandContentCode = 'unknown-format' | 'does-not-open';

/** Content that will never open (wrong site or command, tampered, unknown format): dead-letter. */
export class PhiCipherError extends domainErrorClass<CommandContentCode>('command-content', {
  'unknown-format': 'unprocessable',
  'does-not-open': 'unprocessable',
}) {}

/**
 * The gateway's PhiCipher over the vault service client. A vault service or Vault outage stays a
 * retryable `PhiClientError` (the queue retries without alerting the clinic); a refusal that no
 * retry fixes becomes a `PhiCipherError`.
 */
export class VaultCommandCipher implements PhiCipher {
  constructor(private readonly client: EnvelopeCipher) {}

  async seal(siteNumber: string, commandId: string, plaintext: Buffer): Promise<SealedContent> {
    const envelope = await this.client.encrypt(siteNumber, commandRecordId(commandId), plaintext);
    return { alg: SEALED_ALG, envelope: envelope.toString('base64') };
  }

  async open(siteNumber: string, commandId: string, sealed: SealedContent): Promise<Buffer> {
    const alg: unknown = (sealed as { alg?: unknown }).alg;
    if (alg !== SEALED_ALG || typeof sealed.envelope !== 'string') {
      throw new PhiCipherError('unknown-format', 'sealed content of an unknown format');
    }
    try {
      return await this.client.decrypt(
        siteNumber,
        commandRecordId(commandId),
        Buffer.from(sealed.envelope, 'base64'),
      );
    } catch (error) {
      if (
        error instanceof PhiClientError &&
        !error.retryable &&
        error.status !== 401 &&
        error.status !== 403
      ) {
        throw new PhiCipherError(
          'does-not-open',
          `sealed content does not open for this site and command (${error.code})`,
        );
      }
      throw error;
    }
  }
}
