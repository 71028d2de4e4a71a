import { env, loadConfigOrExit, serviceEnvSchema } from '@cloud-connect/config';
import { z } from 'zod';

export const SERVICE_NAME = 'referral-intake';

/**
 * Development-only secrets, used when NODE_ENV is `development` or `test` and the variable is not
 * set. A production start without INTAKE_KEY_PEPPER / INTAKE_PHI_KEY refuses to start.
 */
export const DEVELOPMENT_KEY_PEPPER = 'development-only-pepper-never-use-in-production-0001';
export const DEVELOPMENT_PHI_KEY = Buffer.alloc(32, 7).toString('base64');

const base64Key = z
  .string()
  .refine((value) => Buffer.from(value, 'base64').length === 32, 'must be 32 bytes, base64-encoded');

export const configSchema = serviceEnvSchema(
  { port: 3001, schema: 'intake' },
  {
    /** Largest bundle accepted, in bytes; larger posts get 413. */
    INTAKE_MAX_BODY_BYTES: env.positiveInt(5 * 1024 * 1024),
    /** Deepest JSON nesting and longest array accepted in a bundle (400 beyond). */
    INTAKE_MAX_JSON_DEPTH: env.positiveInt(40),
    INTAKE_MAX_ARRAY_LENGTH: env.positiveInt(5000),
    /** Server-side pepper of the inbound API key hashes (HMAC-SHA256). Secret. */
    INTAKE_KEY_PEPPER: env.secret(32).optional(),
    /** AES-256 key of the development PHI cipher (replaced by the vault service's SEK crypto). Secret. */
    INTAKE_PHI_KEY: base64Key.optional(),
    /** Default per-integration rate limit (requests/s, burst); an integration may set its own. */
    INTAKE_RATE_LIMIT_PER_SECOND: env.positiveInt(500),
    INTAKE_RATE_LIMIT_BURST: env.positiveInt(1000),
    /** Outbound copies: attempts before dead-lettering, backoff, request timeout, poll interval. */
    COPY_MAX_ATTEMPTS: env.positiveInt(6),
    COPY_BACKOFF_BASE_MS: env.positiveInt(1000),
    COPY_BACKOFF_MAX_MS: env.positiveInt(5 * 60 * 1000),
    COPY_TIMEOUT_MS: env.positiveInt(10000),
    COPY_POLL_MS: env.positiveInt(500),
    /** Request URLs of outbound copies must be https unless this is true (local and test stacks). */
    COPY_ALLOW_HTTP: env.bool(false),
  },
).superRefine((cfg, ctx) => {
  if (cfg.NODE_ENV !== 'production') return;
  for (const key of ['INTAKE_KEY_PEPPER', 'INTAKE_PHI_KEY'] as const) {
    if (!cfg[key])
      ctx.addIssue({ code: 'custom', path: [key], message: 'required when NODE_ENV=production' });
  }
});

export type IntakeConfig = z.output<typeof configSchema>;

export interface IntakeSecrets {
  keyPepper: string;
  phiKey: Buffer;
}

/** The secrets, with the development fallbacks outside production (config already refused those). */
export function intakeSecrets(cfg: {
  NODE_ENV?: string | undefined;
  INTAKE_KEY_PEPPER?: string | undefined;
  INTAKE_PHI_KEY?: string | undefined;
}): IntakeSecrets {
  const production = cfg.NODE_ENV === 'production';
  if (production && (!cfg.INTAKE_KEY_PEPPER || !cfg.INTAKE_PHI_KEY)) {
    throw new Error('INTAKE_KEY_PEPPER and INTAKE_PHI_KEY are required when NODE_ENV=production');
  }
  return {
    keyPepper: cfg.INTAKE_KEY_PEPPER ?? DEVELOPMENT_KEY_PEPPER,
    phiKey: Buffer.from(cfg.INTAKE_PHI_KEY ?? DEVELOPMENT_PHI_KEY, 'base64'),
  };
}

export function loadServiceConfig(): IntakeConfig {
  return loadConfigOrExit(SERVICE_NAME, configSchema);
}
