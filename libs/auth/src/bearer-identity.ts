import { decodeProtectedHeader } from 'jose';
import type { AdminTokenVerifier } from './admin-tokens';
import type { AdminPrincipal, ServicePrincipal } from './principal';
import { ServiceIdentityMismatchError, type ServiceTokenVerifier } from './service-tokens';

/** The token of an `Authorization: Bearer …` header, or null when there is none or it is malformed. */
export function bearerToken(header: string | string[] | undefined): string | null {
  return typeof header === 'string' && /^Bearer [A-Za-z0-9._~+/-]+=*$/.test(header) ? header.slice(7) : null;
}

/**
 * Who a bearer token proves the caller is: a service (signature by a published service key,
 * audience, expiry), a service whose signed token names another (`mismatch`: a 403 attributed to
 * the signer), an admin (ES256, issuer, audience, expiry), or why it proves nothing (a 401).
 * Body-free, so it can run before a large body is read; what the caller may do is AuthGuard's.
 */
export type BearerIdentity =
  { principal: ServicePrincipal | AdminPrincipal } | { mismatch: ServicePrincipal } | { refused: string };

export async function bearerIdentity(
  header: string | string[] | undefined,
  verifiers: { admins: AdminTokenVerifier; services: ServiceTokenVerifier },
): Promise<BearerIdentity> {
  const token = bearerToken(header);
  if (!token) return { refused: 'a bearer token is required' };
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    return { refused: 'the token is malformed' };
  }
  if (alg === 'HS256') return { refused: 'shared-secret service tokens are no longer accepted' };
  if (alg === 'EdDSA') {
    const verified = await verifiers.services.verify(token).catch((error: unknown) => error);
    if (verified instanceof ServiceIdentityMismatchError)
      return { mismatch: { kind: 'service', service: verified.signer } };
    if (verified instanceof Error || !verified) return { refused: 'the service token is invalid or expired' };
    return { principal: verified as ServicePrincipal };
  }
  const principal = await verifiers.admins.verify(token).catch(() => null);
  return principal ? { principal } : { refused: 'the access token is invalid or expired' };
}
