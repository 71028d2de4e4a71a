import { loadConfigOrExit, requireVaultAuth, serviceEnvSchema, vaultClientEnv } from '@cloud-connect/config';
import type { z } from 'zod';

export const SERVICE_NAME = 'emr-gateway';

export const configSchema = serviceEnvSchema(
  { port: 3002, schema: 'emr_gateway' },
  vaultClientEnv.shape,
).superRefine(requireVaultAuth);

export type EmrGatewayConfig = z.output<typeof configSchema>;

export function loadServiceConfig(): EmrGatewayConfig {
  return loadConfigOrExit(SERVICE_NAME, configSchema);
}
