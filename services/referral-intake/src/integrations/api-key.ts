import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Inbound API keys. Stored only as HMAC-SHA256(pepper, key): the pepper lives in config (or a
 * secret store), never in the database, so a database dump alone cannot be brute-forced. The hash
 * is deterministic, so it is also the lookup key (unique index): one indexed query per request,
 * whatever the key's format (keys the admin pastes in from a CHR have no format of ours).
 */
export const GENERATED_KEY_PREFIX = 'ccik_';
export const MIN_SUPPLIED_KEY_LENGTH = 24;
export const MIN_SUPPLIED_KEY_BITS = 96;

export function generateApiKey(): string {
  return `${GENERATED_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(pepper: string, key: string): Buffer {
  return createHmac('sha256', pepper).update(key, 'utf8').digest();
}

/** Constant-time comparison of two key hashes. */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The last 4 characters: enough for an admin to tell keys apart, useless to an attacker. */
export function keyHint(key: string): string {
  return `…${key.slice(-4)}`;
}

/**
 * Why a key pasted in by an admin is too weak, or null. Length alone is not enough ("aaaa…"):
 * the estimate is length × Shannon entropy per character of the key itself.
 */
export function weakKeyReason(key: string): string | null {
  if (key.length < MIN_SUPPLIED_KEY_LENGTH) {
    return `the key must be at least ${MIN_SUPPLIED_KEY_LENGTH} characters`;
  }
  if (key.length > 512) return 'the key must be at most 512 characters';
  if (!/^[\x21-\x7e]+$/.test(key)) return 'the key must be printable ASCII without spaces';
  if (estimatedBits(key) < MIN_SUPPLIED_KEY_BITS) {
    return `the key is too predictable (about ${Math.floor(estimatedBits(key))} bits; at least ${MIN_SUPPLIED_KEY_BITS} needed)`;
  }
  return null;
}

export function estimatedBits(key: string): number {
  const counts = new Map<string, number>();
  for (const ch of key) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) {
    const p = n / key.length;
    perChar -= p * Math.log2(p);
  }
  return perChar * key.length;
}
