import { loadConfigOrExit, serviceEnvSchema } from '@cloud-connect/config';
import type { z } from 'zod';

export const SERVICE_NAME = 'scheduler';

export const configSchema = serviceEnvSchema({ port: 3004, schema: 'scheduler' }, {});

export type SchedulerConfig = z.output<typeof configSchema>;

export function loadServiceConfig(): SchedulerConfig {
  return loadConfigOrExit(SERVICE_NAME, configSchema);
}
