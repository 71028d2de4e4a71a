import { loadConfigOrExit, requireServerTls, serverTlsEnv } from '@cloud-connect/config';
import { join } from 'node:path';
import { z } from 'zod';

export const SERVICE_NAME = 'console';

const url = z.url({ protocol: /^https?$/ }).transform((value) => value.replace(/\/+$/, ''));

const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

/** The console's server side: where the admin APIs are, and how the session cookie is sealed. */
export const configSchema = z
  .object({
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    /** HTTPS inside the cluster (both or neither); the upstream URLs are then https too. */
    ...serverTlsEnv.shape,
    /** Identity (sign-in, re-authentication), site records, SEK, audit. */
    VAULT_SERVICE_URL: url.default('http://127.0.0.1:3003'),
    /** EMR connection, settings, sync, commands. */
    EMR_GATEWAY_URL: url.default('http://127.0.0.1:3002'),
    /** Integrations, deliveries, OAuth clients. */
    REFERRAL_INTAKE_URL: url.default('http://127.0.0.1:3001'),
    /** Seals the session cookie (AES-256-GCM); at least 32 characters of randomness. */
    CONSOLE_SESSION_SECRET: z.string().min(32, 'at least 32 characters'),
    /** `Secure` cookies (HTTPS only). Only a local http:// console sets this to false. */
    CONSOLE_COOKIE_SECURE: flag.default(true),
    /** The built web app (index.html and assets). */
    CONSOLE_WEB_DIR: z
      .string()
      .min(1)
      .default(join(__dirname, '..', 'web')),
    /** How long an upstream call may take before the console answers 504. */
    CONSOLE_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(120000).default(30000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine(requireServerTls);

export type ConsoleConfig = z.output<typeof configSchema>;

export function loadServiceConfig(): ConsoleConfig {
  return loadConfigOrExit(SERVICE_NAME, configSchema);
}
