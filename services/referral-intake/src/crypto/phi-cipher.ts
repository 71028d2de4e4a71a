/**
 * Encrypts PHI (and replayable site secrets) at rest, bound to the site and the record it belongs
 * to: a ciphertext moved to another row or site does not decrypt. The only implementation is the
 * vault service's envelope encryption under the site's SEK (`VaultPhiCipher`); callers only see
 * this interface. A site without an SEK gets `PhiClientError` `sek-not-found`; the vault service
 * or Vault unavailable gets a retryable `PhiClientError` (see the helpers re-exported here).
 */
export {
  isPhiUnavailable,
  isSekMissing,
  PHI_RETRY_AFTER_SECONDS,
  PhiClientError,
  type PhiCipher,
} from '@cloud-connect/phi-client';
import type { PhiCipher } from '@cloud-connect/phi-client';

export const PHI_CIPHER = Symbol('PHI_CIPHER');

/** The PhiCipher with batch decryption (up to 100 records per call, results in order). */
export interface BatchPhiCipher extends PhiCipher {
  decryptBatch(site: string, items: { recordId: string; data: Buffer }[]): Promise<Buffer[]>;
}

/** What a sender or an admin is told when the site has no SEK yet (no key, no PHI in it). */
export function sekMissingMessage(site: string): string {
  return (
    `the receiving site (${site}) has not stored its encryption key (SEK) yet, so nothing can be ` +
    `stored for it; a site admin stores it with "cloud-connect sek store --site ${site}"`
  );
}
