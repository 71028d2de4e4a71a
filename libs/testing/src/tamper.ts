/**
 * A copy of a token, cookie or signature with one character in its middle replaced by a
 * different one of the same alphabet, so the copy differs from the original every time.
 * (Overwriting the last characters with a constant does not: one token in 64 already ends in
 * `x`, and the last base64url character may carry only padding bits.)
 */
export function tamperedCopy(text: string): string {
  if (text.length === 0) throw new Error('nothing to tamper with in an empty string');
  const at = Math.floor(text.length / 2);
  const replacement = text[at] === 'A' ? 'B' : 'A';
  return `${text.slice(0, at)}${replacement}${text.slice(at + 1)}`;
}
