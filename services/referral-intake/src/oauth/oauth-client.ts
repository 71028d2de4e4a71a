import { domainErrorClass } from '@cloud-connect/errors';
import { z } from 'zod';
import { parseScope } from './scopes';

export type OAuthClientErrorCode = 'invalid-client-input' | 'client-exists' | 'client-not-found';

export class OAuthClientError extends domainErrorClass<OAuthClientErrorCode>('oauth', {
  'invalid-client-input': 'invalid',
  'client-exists': 'conflict',
  'client-not-found': 'not-found',
}) {}

export const siteNumber = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, 'a site number is 1 to 10 digits, not starting with 0');

const publicJwk = z
  .looseObject({
    kty: z.enum(['RSA', 'EC'], 'kty is RSA or EC'),
    kid: z.string().min(1, 'every key needs a kid'),
  })
  .refine((key) => !('d' in key), 'a JWK Set must hold public keys only (remove "d")');

export const createClientInput = z
  .object({
    name: z.string().trim().min(1, 'a credential needs a name').max(200, 'a name is at most 200 characters'),
    scopes: z
      .array(
        z
          .string()
          .refine((s) => parseScope(s) !== null, 'not a SMART system scope (e.g. system/ServiceRequest.rs)'),
      )
      .min(1, 'grant at least one scope'),
    jwks: z
      .object({ keys: z.array(publicJwk).min(1, 'a JWK Set needs at least one key') })
      .nullable()
      .default(null),
    jwksUrl: z.url('jwksUrl is not a URL').nullable().default(null),
  })
  .refine((v) => !(v.jwks && v.jwksUrl), { message: 'give jwks or jwksUrl, not both', path: ['jwks'] });

export type CreateClientInput = z.input<typeof createClientInput>;

export const rotateClientInput = z.object({
  overlapSeconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 86400, 'the overlap is at most 30 days')
    .optional(),
});

export type RotateClientInput = z.input<typeof rotateClientInput>;

export function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
}

/** Client ids carry their site (`<site>.<random>`), so every lookup is scoped to the site. */
export function siteOfClientId(clientId: string): string | null {
  const match = /^([1-9][0-9]{0,9})\.[A-Za-z0-9_-]{22}$/.exec(clientId);
  return match?.[1] ?? null;
}
