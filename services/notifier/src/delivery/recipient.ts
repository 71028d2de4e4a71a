/** RFC 5321: a path is at most 256 octets (254 for the address), a local part at most 64. */
const MAX_ADDRESS = 254;
const MAX_LOCAL = 64;

/**
 * Whether `text` looks like a deliverable e-mail address: one `@`, a non-empty local part of at
 * most 64 characters, a domain with a dot inside, no whitespace, at most 254 characters. Linear
 * in the input (one pass, no backtracking regex), and anything longer is refused before scanning.
 */
export function isEmailAddress(text: string): boolean {
  if (text.length === 0 || text.length > MAX_ADDRESS) return false;
  const at = text.indexOf('@');
  if (at <= 0 || at > MAX_LOCAL || text.indexOf('@', at + 1) !== -1) return false;
  const domain = text.slice(at + 1);
  const dot = domain.indexOf('.');
  if (dot <= 0 || domain.endsWith('.')) return false;
  return !/\s/.test(text);
}

/** Whether `text` is an E.164 phone number (`+` and 7 to 15 digits, not starting with 0). */
export function isE164(text: string): boolean {
  return /^\+[1-9][0-9]{6,14}$/.test(text);
}
