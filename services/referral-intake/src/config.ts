import { env, loadConfigOrExit, serviceEnvSchema } from '@cloud-connect/config';
import type { z } from 'zod';

export const SERVICE_NAME = 'referral-intake';

export const configSchema = serviceEnvSchema(
  { port: 3001, schema: 'intake' },
  {
    /** Largest bundle accepted, in bytes; larger posts get 413. */
    INTAKE_MAX_BODY_BYTES: env.positiveInt(5 * 1024 * 1024),
  },
);

export type IntakeConfig = z.output<typeof configSchema>;

export function loadServiceConfig(): IntakeConfig {
  return loadConfigOrExit(SERVICE_NAME, configSchema);
}
