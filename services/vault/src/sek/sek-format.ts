/**
 * The Shared Encryption Key (SEK) as a site admin types or pastes it: the base64 text of exactly
 * 32 random bytes (256 bits). Standard base64 (44 characters ending in one `=`) and URL-safe
 * base64 without padding (43 characters) are both accepted; surrounding whitespace is ignored.
 * The key is stored as its canonical standard-base64 text.
 */
export const SEK_BYTES = 32;

export class SekFormatError extends Error {
  constructor(readonly reason: string) {
    super(`invalid SEK: ${reason}`);
    this.name = 'SekFormatError';
  }
}

const STANDARD = /^[A-Za-z0-9+/]{43}=$/;
const URL_SAFE = /^[A-Za-z0-9_-]{43}$/;

/** Parses the SEK text; the error message describes the rule, never echoes the input. */
export function parseSek(text: unknown): Buffer {
  if (typeof text !== 'string') throw new SekFormatError('the SEK must be a string');
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new SekFormatError('the SEK is empty');
  if (!STANDARD.test(trimmed) && !URL_SAFE.test(trimmed)) {
    throw new SekFormatError(
      `the SEK must be the base64 text of exactly ${SEK_BYTES} bytes (44 characters ending in "=", ` +
        `or 43 URL-safe base64 characters); got ${trimmed.length} characters`,
    );
  }
  const bytes = Buffer.from(trimmed, STANDARD.test(trimmed) ? 'base64' : 'base64url');
  if (bytes.length !== SEK_BYTES) {
    throw new SekFormatError(`the SEK must decode to ${SEK_BYTES} bytes; got ${bytes.length}`);
  }
  if (bytes.every((b) => b === bytes[0])) {
    throw new SekFormatError('the SEK must be random bytes, not one repeated value');
  }
  return bytes;
}

/** Canonical text form (standard base64 with padding). */
export function formatSek(bytes: Buffer): string {
  return bytes.toString('base64');
}
