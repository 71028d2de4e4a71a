import { env, loadConfigOrExit, serviceEnvSchema } from '@cloud-connect/config';
import { z } from 'zod';

export const SERVICE_NAME = 'notifier';

export const configSchema = serviceEnvSchema(
  { port: 3005, schema: 'notifier' },
  {
    SMTP_HOST: z.string().min(1),
    SMTP_PORT: env.port(587),
    SMTP_SECURE: env.bool(false),
    /**
     * Refuse to send unless the connection is TLS: STARTTLS must be offered and succeed (or
     * SMTP_SECURE). The certificate is checked against the public roots, NODE_EXTRA_CA_CERTS and
     * SMTP_CA_FILE (a PEM bundle for a private CA).
     */
    SMTP_REQUIRE_TLS: env.bool(false),
    SMTP_CA_FILE: z.string().min(1).optional(),
    SMTP_USER: z.string().min(1).optional(),
    SMTP_PASSWORD: z.string().min(1).optional(),
    SMTP_FROM: z.email().default('no-reply@cloud-connect.local'),
    SMS_API_URL: env.url(['http', 'https']).optional(),
    SMS_API_KEY: z.string().min(1).optional(),
    NOTIFY_MAX_ATTEMPTS: env.positiveInt(6),
    NOTIFY_RETRY_BASE_MS: env.positiveInt(2000),
    NOTIFY_RETRY_MAX_MS: env.positiveInt(120000),
    /** `http`: the generic HTTP SMS API (SMS_API_URL); `twilio`: Twilio's Messages API. */
    SMS_PROVIDER: z.enum(['http', 'twilio']).default('http'),
    TWILIO_API_URL: env.url(['http', 'https']).default('https://api.twilio.com'),
    TWILIO_ACCOUNT_SID: z.string().min(1).optional(),
    TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
    /** The sending number (E.164) or Messaging Service SID. */
    TWILIO_FROM: z.string().min(1).optional(),
    /** This service's public base URL, where Twilio posts delivery receipts and inbound STOPs. */
    NOTIFIER_PUBLIC_URL: env.url(['http', 'https']).optional(),
    /** The vault service, which opens patients' sealed contact details (reminders, notices). */
    VAULT_SERVICE_URL: env.url(['http', 'https']).optional(),
    PHI_TIMEOUT_MS: env.positiveInt(10000),
  },
).superRefine((cfg, ctx) => {
  if (cfg.SMS_PROVIDER !== 'twilio') return;
  for (const key of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'] as const)
    if (!cfg[key])
      ctx.addIssue({ code: 'custom', path: [key], message: 'required when SMS_PROVIDER=twilio' });
});

export type NotifierConfig = z.output<typeof configSchema>;

export function loadServiceConfig(): NotifierConfig {
  return loadConfigOrExit(SERVICE_NAME, configSchema);
}
