import { loadConfigOrExit, requireVaultAuth, serviceEnvSchema, vaultClientEnv } from '@cloud-connect/config';
import type { z } from 'zod';

export const SERVICE_NAME = 'vault';

export const configSchema = serviceEnvSchema(
  { port: 3003, schema: 'vault' },
  vaultClientEnv.shape,
).superRefine(requireVaultAuth);

export type VaultConfig = z.output<typeof configSchema>;

export function loadServiceConfig(): VaultConfig {
  return loadConfigOrExit(SERVICE_NAME, configSchema);
}
