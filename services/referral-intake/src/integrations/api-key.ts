import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Inbound API keys. Stored only as HMAC-SHA256(pepper, key): the pepper lives in config (or a
 * secret store), never in the database, so a database dump alone cannot be brute-forced. The hash
 * is deterministic, so it is also the lookup key (unique index): one indexed query per request,
 * whatever the key's format (keys the admin pastes in from a CHR have no format of ours).
 */
export const GENERATED_KEY_PREFIX = 'ccik_';
export const MIN_SUPPLIED_KEY_LENGTH = 24;
export const MIN_SUPPLIED_KEY_BITS = 128;

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
 * Why a key pasted in by an admin is too weak, or null. Length alone is not enough ("aaaa…",
 * "abcdefgh…"): see `estimatedBits`. At least 128 bits, e.g. `openssl rand -base64 32`.
 */
export function weakKeyReason(key: string): string | null {
  if (key.length < MIN_SUPPLIED_KEY_LENGTH) {
    return `the key must be at least ${MIN_SUPPLIED_KEY_LENGTH} characters`;
  }
  if (key.length > 512) return 'the key must be at most 512 characters';
  if (!/^[\x21-\x7e]+$/.test(key)) return 'the key must be printable ASCII without spaces';
  const bits = estimatedBits(key);
  if (bits < MIN_SUPPLIED_KEY_BITS) {
    return `the key is too predictable (about ${Math.floor(bits)} bits; at least ${MIN_SUPPLIED_KEY_BITS} needed — e.g. openssl rand -base64 32)`;
  }
  return null;
}

/**
 * A conservative estimate of a key's entropy in bits: the smaller of
 * - length × Shannon entropy per character of the key itself (catches repeats: "abab…"), and
 * - length × log2(alphabet of its character classes: 10 digits, 16 hex, 26 lower, 26 upper,
 *   33 symbols), where a character continuing a run of equal steps of -1, 0 or +1 ("abc",
 *   "321", "aaa") counts nothing.
 * Random keys from a tool pass from about 40 base64 or 64 hex characters.
 */
export function estimatedBits(key: string): number {
  const counts = new Map<string, number>();
  for (const ch of key) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) {
    const p = n / key.length;
    perChar -= p * Math.log2(p);
  }
  return Math.min(perChar * key.length, patternBits(key));
}

function alphabetSize(key: string): number {
  if (/^[0-9]+$/.test(key)) return 10;
  if (/^[0-9a-f]+$/.test(key) || /^[0-9A-F]+$/.test(key)) return 16;
  return (
    (/[a-z]/.test(key) ? 26 : 0) +
    (/[A-Z]/.test(key) ? 26 : 0) +
    (/[0-9]/.test(key) ? 10 : 0) +
    (/[^A-Za-z0-9]/.test(key) ? 33 : 0)
  );
}

function patternBits(key: string): number {
  const perChar = Math.log2(alphabetSize(key));
  let bits = 0;
  for (let i = 0; i < key.length; i += 1) {
    const step = key.charCodeAt(i) - key.charCodeAt(i - 1);
    const previousStep = key.charCodeAt(i - 1) - key.charCodeAt(i - 2);
    const continuesRun = i >= 2 && step === previousStep && Math.abs(step) <= 1;
    if (!continuesRun) bits += perChar;
  }
  return bits;
}
