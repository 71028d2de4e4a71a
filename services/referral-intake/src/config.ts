import { env, loadConfigOrExit, phiServiceEnvSchema } from '@cloud-connect/config';
import { z } from 'zod';

export const SERVICE_NAME = 'referral-intake';

/**
 * Development-only pepper, used when NODE_ENV is `development` or `test` and the variable is not
 * set. A production start without INTAKE_KEY_PEPPER refuses to start. (PHI has no development
 * key: it is always encrypted by the vault service under the site's SEK.)
 */
export const DEVELOPMENT_KEY_PEPPER = 'development-only-pepper-never-use-in-production-0001';

/**
 * The vault service for PHI keys, Vault itself for this service's own secrets (the key sealing
 * OAuth signing keys), and egress to the copy receivers and JWKS URLs site admins choose.
 */
export const configSchema = phiServiceEnvSchema(
  { port: 3001, schema: 'intake' },
  {
    /** Largest bundle accepted, in bytes; larger posts get 413. */
    INTAKE_MAX_BODY_BYTES: env.positiveInt(5 * 1024 * 1024),
    /** Deepest JSON nesting and longest array accepted in a bundle (400 beyond). */
    INTAKE_MAX_JSON_DEPTH: env.positiveInt(40),
    INTAKE_MAX_ARRAY_LENGTH: env.positiveInt(5000),
    /** Server-side pepper of the inbound API key hashes (HMAC-SHA256). Secret. */
    INTAKE_KEY_PEPPER: env.secret(32).optional(),
    /** Default per-integration rate limit (requests/s, burst); an integration may set its own. */
    INTAKE_RATE_LIMIT_PER_SECOND: env.positiveInt(500),
    INTAKE_RATE_LIMIT_BURST: env.positiveInt(1000),
    /** Outbound copies: attempts before dead-lettering, backoff, request timeout, poll interval. */
    COPY_MAX_ATTEMPTS: env.positiveInt(6),
    COPY_BACKOFF_BASE_MS: env.positiveInt(1000),
    COPY_BACKOFF_MAX_MS: env.positiveInt(5 * 60 * 1000),
    COPY_TIMEOUT_MS: env.positiveInt(10000),
    COPY_POLL_MS: env.positiveInt(500),
    /** Largest answer read from a copy receiver (bytes); the body is discarded anyway. */
    COPY_MAX_RESPONSE_BYTES: env.positiveInt(64 * 1024),
    /**
     * Group commit of accepted bundles: at most this many per transaction, waiting at most this
     * long (ms; 0 = the current event-loop turn) for company, with this many transactions in flight.
     */
    INTAKE_COMMIT_MAX_BATCH: env.positiveInt(64),
    INTAKE_COMMIT_WINDOW_MS: z.coerce.number().int().min(0).max(50).default(0),
    INTAKE_COMMIT_IN_FLIGHT: env.positiveInt(2),
    /**
     * Hot-path look-ups kept in memory (the API key's integration, a referral's sender for the
     * status-back role rule): for at most this many ms (0 = not cached) and this many entries.
     */
    INTAKE_LOOKUP_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60000).default(5000),
    INTAKE_LOOKUP_CACHE_MAX_ENTRIES: env.positiveInt(10000),
    /**
     * Failed inbound API-key checks allowed per source address and per key prefix within the
     * window (seconds); beyond, 429 with Retry-After before any check. Counted in Postgres.
     */
    INTAKE_KEY_THROTTLE_WINDOW_SECONDS: env.positiveInt(60),
    INTAKE_KEY_THROTTLE_ADDRESS_MAX_FAILURES: env.positiveInt(30),
    INTAKE_KEY_THROTTLE_PREFIX_MAX_FAILURES: env.positiveInt(30),
  },
).superRefine((cfg, ctx) => {
  if (cfg.NODE_ENV === 'production' && !cfg.INTAKE_KEY_PEPPER)
    ctx.addIssue({
      code: 'custom',
      path: ['INTAKE_KEY_PEPPER'],
      message: 'required when NODE_ENV=production',
    });
});

export type IntakeConfig = z.output<typeof configSchema>;

export interface IntakeSecrets {
  keyPepper: string;
}

/** The secrets, with the development fallback outside production (config already refused that). */
export function intakeSecrets(cfg: {
  NODE_ENV?: string | undefined;
  INTAKE_KEY_PEPPER?: string | undefined;
}): IntakeSecrets {
  if (cfg.NODE_ENV === 'production' && !cfg.INTAKE_KEY_PEPPER) {
    throw new Error('INTAKE_KEY_PEPPER is required when NODE_ENV=production');
  }
  return { keyPepper: cfg.INTAKE_KEY_PEPPER ?? DEVELOPMENT_KEY_PEPPER };
}

export function loadServiceConfig(): IntakeConfig {
  return loadConfigOrExit(SERVICE_NAME, configSchema);
}
