import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { decodeJwt, EncryptJWT, jwtDecrypt } from 'jose';
import { z } from 'zod';
import type { SessionView } from './session-view';

export const SESSION_COOKIE = 'cc_console_session';

/** What the sealed cookie holds: the admin's access token and the session's CSRF token. */
export interface ConsoleSession {
  /** The vault service's admin access token (ES256 JWT); never leaves the server side. */
  token: string;
  /** Sent back by the page in `X-CSRF-Token` on every state change. */
  csrf: string;
  /** When the access token expires (seconds since the epoch). */
  expiresAt: number;
}

export type { SessionView } from './session-view';

const claims = z.object({
  email: z.string(),
  sites: z.record(z.string(), z.enum(['admin', 'member'])),
  auth_time: z.number(),
  exp: z.number(),
});

const sealed = z.object({ tok: z.string().min(1), csrf: z.string().min(16) });

/**
 * Seals sessions into the cookie itself (JWE, direct AES-256-GCM with a key derived from the
 * console's secret), so any replica of the console can read them and nothing is kept in memory.
 * The cookie expires with the access token inside it.
 */
export class SessionSealer {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new Uint8Array(
      createHash('sha256').update(`cloud-connect console session\0${secret}`).digest(),
    );
  }

  /** A new session for a freshly issued access token (a new CSRF token unless one is kept). */
  open(token: string, keepCsrf?: string): ConsoleSession {
    const { exp } = claims.pick({ exp: true }).parse(decodeJwt(token));
    return { token, csrf: keepCsrf ?? randomBytes(24).toString('base64url'), expiresAt: exp };
  }

  async seal(session: ConsoleSession): Promise<string> {
    return new EncryptJWT({ tok: session.token, csrf: session.csrf })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt()
      .setExpirationTime(session.expiresAt)
      .encrypt(this.key);
  }

  /** The session in a cookie value, or null if it is missing, tampered with or expired. */
  async unseal(value: string | undefined): Promise<ConsoleSession | null> {
    if (!value) return null;
    try {
      const { payload } = await jwtDecrypt(value, this.key, { clockTolerance: 0 });
      const parsed = sealed.parse(payload);
      return { token: parsed.tok, csrf: parsed.csrf, expiresAt: payload.exp ?? 0 };
    } catch {
      return null;
    }
  }
}

export function viewOf(session: ConsoleSession): SessionView {
  const c = claims.parse(decodeJwt(session.token));
  return {
    email: c.email,
    sites: c.sites,
    authTime: c.auth_time,
    expiresAt: session.expiresAt,
    csrfToken: session.csrf,
  };
}

/** Constant-time comparison of the CSRF token a request carries with the session's. */
export function csrfMatches(session: ConsoleSession, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
