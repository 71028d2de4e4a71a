import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTVerifyGetKey, type KeyLike } from 'jose';
import { z } from 'zod';
import type { AdminPrincipal } from './principal';

export const ADMIN_TOKEN_ISSUER = 'cloud-connect/vault';
export const ADMIN_TOKEN_AUDIENCE = 'cloud-connect/admin';
export const ADMIN_TOKEN_ALGORITHM = 'ES256';
/**
 * Access tokens live 5 minutes: a service that only checks signatures (every one but the vault
 * service, which checks the session row on each call) refuses a revoked session within this window.
 */
export const ADMIN_TOKEN_TTL_SECONDS = 5 * 60;
/** Actions that can move data out need a sign-in (password, and code when enrolled) this recent. */
export const STEP_UP_SECONDS = 5 * 60;

const claimsSchema = z.object({
  sub: z.string().min(1),
  email: z.email(),
  sites: z.record(z.string(), z.enum(['admin', 'member'])),
  auth_time: z.number().int().positive(),
  sid: z.uuid(),
  amr: z.array(z.enum(['pwd', 'otp'])).min(1),
});

export class InvalidTokenError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidTokenError';
  }
}

/** Where the public keys of admin tokens come from: the vault service's JWKS, or its own key set. */
export interface AdminKeyResolver {
  getKey: JWTVerifyGetKey;
}

/** Verifies admin access tokens: ES256 only, issuer, audience, expiry, and the claims' shape. */
export class AdminTokenVerifier {
  constructor(private readonly keys: AdminKeyResolver) {}

  async verify(token: string): Promise<AdminPrincipal> {
    try {
      const { payload } = await jwtVerify(token, this.keys.getKey, {
        issuer: ADMIN_TOKEN_ISSUER,
        audience: ADMIN_TOKEN_AUDIENCE,
        algorithms: [ADMIN_TOKEN_ALGORITHM],
        clockTolerance: 5,
      });
      const claims = claimsSchema.parse(payload);
      return {
        kind: 'admin',
        userId: claims.sub,
        email: claims.email,
        sites: claims.sites,
        authTime: claims.auth_time,
        sessionId: claims.sid,
        amr: claims.amr,
      };
    } catch (error) {
      throw new InvalidTokenError(error instanceof Error ? error.name : 'invalid token');
    }
  }
}

/** Signs admin access tokens (used only by the `vault` service, which holds the private key). */
export async function signAdminToken(
  principal: Omit<AdminPrincipal, 'kind'>,
  key: { privateKey: KeyLike; kid: string },
  ttlSeconds = ADMIN_TOKEN_TTL_SECONDS,
): Promise<string> {
  return new SignJWT({
    email: principal.email,
    sites: principal.sites,
    auth_time: principal.authTime,
    sid: principal.sessionId,
    amr: principal.amr,
  })
    .setProtectedHeader({ alg: ADMIN_TOKEN_ALGORITHM, kid: key.kid, typ: 'at+jwt' })
    .setIssuer(ADMIN_TOKEN_ISSUER)
    .setAudience(ADMIN_TOKEN_AUDIENCE)
    .setSubject(principal.userId)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key.privateKey);
}
