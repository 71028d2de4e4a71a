import { env, loadConfigOrExit, vaultServiceEnvSchema } from '@cloud-connect/config';
import { z } from 'zod';

export const SERVICE_NAME = 'vault';

export const configSchema = vaultServiceEnvSchema(
  { port: 3003, schema: 'vault' },
  {
    /** The console's public URL: invitation and password links in e-mails lead there. */
    CONSOLE_URL: z.url().default('http://127.0.0.1:3000'),
    /** After a SEK remove, how long it stays recoverable (`sek restore`) before it may be destroyed. */
    SEK_RECOVERY_WINDOW_SECONDS: env.positiveInt(7 * 24 * 3600),
    /** How often each site's audit chain head is anchored in Vault (KV v2, check-and-set). */
    AUDIT_ANCHOR_INTERVAL_SECONDS: env.positiveInt(60),
    /** The key that signs admin tokens is replaced when older than this (days). */
    ADMIN_SIGNING_KEY_MAX_AGE_DAYS: env.positiveInt(30),
    /** How long a replaced signing key still verifies tokens: at least the token lifetime (300 s). */
    ADMIN_SIGNING_KEY_OVERLAP_SECONDS: env.positiveInt(6 * 60),
    /** How often each replica re-reads the key set from Vault and checks the key's age. */
    ADMIN_SIGNING_KEY_CHECK_SECONDS: env.positiveInt(60),
  },
);

export type VaultConfig = z.output<typeof configSchema>;

export function loadServiceConfig(): VaultConfig {
  return loadConfigOrExit(SERVICE_NAME, configSchema);
}
