import { env, loadConfigOrExit, serviceEnvSchema } from '@cloud-connect/config';
import { z } from 'zod';

export const SERVICE_NAME = 'notifier';

export const configSchema = serviceEnvSchema(
  { port: 3005, schema: 'notifier' },
  {
    SMTP_HOST: z.string().min(1),
    SMTP_PORT: env.port(587),
    SMTP_SECURE: env.bool(false),
    SMTP_USER: z.string().min(1).optional(),
    SMTP_PASSWORD: z.string().min(1).optional(),
    SMTP_FROM: z.email().default('no-reply@cloud-connect.local'),
    SMS_API_URL: env.url(['http', 'https']).optional(),
    SMS_API_KEY: z.string().min(1).optional(),
    NOTIFY_MAX_ATTEMPTS: env.positiveInt(6),
    NOTIFY_RETRY_BASE_MS: env.positiveInt(2000),
    NOTIFY_RETRY_MAX_MS: env.positiveInt(120000),
  },
);

export type NotifierConfig = z.output<typeof configSchema>;

export function loadServiceConfig(): NotifierConfig {
  return loadConfigOrExit(SERVICE_NAME, configSchema);
}
