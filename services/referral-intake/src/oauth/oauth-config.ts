import { env } from '@cloud-connect/config';
import { z } from 'zod';

/**
 * Settings of the OAuth and FHIR pull API, read from the environment and validated when the
 * module is created (a wrong value stops the start-up with the variable's name).
 */
export const oauthConfigSchema = z.object({
  /** Lifetime of issued access tokens. */
  OAUTH_ACCESS_TOKEN_TTL_SECONDS: env.positiveInt(300),
  /** How long an old secret stays valid after a rotation, unless the rotation says otherwise. */
  OAUTH_ROTATION_OVERLAP_SECONDS: z.coerce.number().int().min(0).default(86400),
  /** Failed client authentications allowed per client id, and per source address, per window. */
  OAUTH_THROTTLE_CLIENT_MAX_FAILURES: env.positiveInt(10),
  OAUTH_THROTTLE_ADDRESS_MAX_FAILURES: env.positiveInt(50),
  OAUTH_THROTTLE_WINDOW_SECONDS: env.positiveInt(300),
  /** Public base URL (scheme://host[:port]) of this service; derived from the request when unset. */
  OAUTH_PUBLIC_BASE_URL: env.url(['http', 'https']).optional(),
  /** A new access-token signing key is made when the newest is older than this. */
  OAUTH_SIGNING_KEY_ROTATION_DAYS: env.positiveInt(30),
  /** Search results only hold records older than this (a write still in flight is never skipped). */
  FHIR_SNAPSHOT_LAG_MS: z.coerce.number().int().min(0).default(1000),
});

export type OAuthConfig = z.output<typeof oauthConfigSchema>;

export function loadOAuthConfig(source: NodeJS.ProcessEnv = process.env): OAuthConfig {
  const parsed = oauthConfigSchema.safeParse(source);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid OAuth configuration: ${details}`);
  }
  return parsed.data;
}
