import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** Operator tokens start with this prefix, so they are recognisable in a leak scan and never taken for a JWT. */
export const OPERATOR_TOKEN_PREFIX = 'ccop_';

/**
 * `OPERATOR_TOKENS_SHA256`: the operator credentials this service accepts, as a comma-separated
 * list of `name:sha256hex` (the SHA-256 of each operator token, never the token itself). The
 * tokens are 256-bit random values issued at install time, so a plain SHA-256 is a sufficient
 * one-way store; the name is who the operator's actions are audited as (`operator:<name>`).
 * Unset or empty: no operator credential exists and every operator route refuses.
 */
export const operatorEnv = z.object({
  OPERATOR_TOKENS_SHA256: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const entries = (value ?? '')
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry.length > 0);
      const parsed: { name: string; digest: Buffer }[] = [];
      for (const entry of entries) {
        const match = /^([a-z0-9][a-z0-9._-]{0,62}):([0-9a-f]{64})$/.exec(entry);
        if (!match?.[1] || !match[2]) {
          ctx.addIssue({
            code: 'custom',
            message: 'each entry is name:sha256hex (name: lower-case letters, digits, . _ -)',
          });
          return z.NEVER;
        }
        parsed.push({ name: match[1], digest: Buffer.from(match[2], 'hex') });
      }
      return parsed;
    }),
});

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The operator credentials; `verify` compares digests in constant time and checks every entry. */
export class OperatorCredentials {
  constructor(private readonly entries: readonly { name: string; digest: Buffer }[]) {}

  static fromEnv(source: NodeJS.ProcessEnv): OperatorCredentials {
    const parsed = operatorEnv.safeParse(source);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new Error(`invalid operator configuration: ${details}`);
    }
    return new OperatorCredentials(parsed.data.OPERATOR_TOKENS_SHA256);
  }

  get configured(): boolean {
    return this.entries.length > 0;
  }

  /** The operator's name when `token` is one of theirs, else null. */
  verify(token: string): string | null {
    const presented = sha256(token);
    let found: string | null = null;
    for (const entry of this.entries) {
      // No early exit: the time taken does not depend on which entry (if any) matched.
      if (timingSafeEqual(presented, entry.digest) && found === null) found = entry.name;
    }
    return found;
  }
}
