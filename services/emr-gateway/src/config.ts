import { env, loadConfigOrExit, phiServiceEnvSchema } from '@cloud-connect/config';
import { z } from 'zod';

export const SERVICE_NAME = 'emr-gateway';

/**
 * Vault for the EMR credentials, the vault service to seal and open command content under the
 * site's SEK, and egress to the EMR endpoints site admins choose.
 */
export const configSchema = phiServiceEnvSchema(
  { port: 3002, schema: 'emr_gateway' },
  {
    /** TELUS Health integration endpoint used by PS Suite and Med Access connections. */
    EMR_TELUS_API_URL: env.url(['http', 'https']).default('http://127.0.0.1:4010/telus/v1'),
    /** QHR Accuro API endpoint. */
    EMR_ACCURO_API_URL: env.url(['http', 'https']).default('http://127.0.0.1:4010/accuro'),
    EMR_HTTP_TIMEOUT_MS: env.positiveInt(10000),
    /**
     * How long past EMR_HTTP_TIMEOUT_MS an EMR may still file a write whose answer never came back
     * (the caller crashed or gave up): a re-attempt reads the chart back only after that.
     */
    EMR_WRITE_SETTLE_MS: env.positiveInt(5000),
    /** Largest EMR answer read, in bytes (a larger one fails the call). */
    EMR_MAX_RESPONSE_BYTES: env.positiveInt(8 * 1024 * 1024),
    /** referral-intake, from which inbound messages are read to put them into the chart. */
    REFERRAL_INTAKE_URL: env.url(['http', 'https']).default('http://127.0.0.1:3001'),
    /** Delays between tries of a failing command; the last one repeats (default: 6 tries in the first hour, then hourly). */
    EMR_RETRY_SCHEDULE_MS: z
      .string()
      .default('60000,120000,300000,600000,900000,1800000,3600000')
      .transform((v) => v.split(',').map((p) => Number(p.trim())))
      .refine(
        (list) => list.length > 0 && list.every((n) => Number.isInteger(n) && n > 0),
        'a comma list of positive ms',
      ),
    /** After this long failing, a command is dead-lettered for an operator (product floor: 96 h). */
    EMR_COMMAND_HORIZON_MS: env.positiveInt(96 * 3600 * 1000),
    /** Reminder e-mail to the clinical administrator while delivery keeps failing. */
    EMR_ALERT_REMINDER_MS: env.positiveInt(24 * 3600 * 1000),
    /** How long the first note of a sitting waits for the sitting's other forms when combining. */
    EMR_SITTING_WAIT_MS: env.positiveInt(120000),
    EMR_DISPATCH_INTERVAL_MS: env.positiveInt(500),
    EMR_DISPATCH_CONCURRENCY: env.positiveInt(8),
    /** Days from today a full schedule sync covers (recent syncs cover the site's days to sync). */
    EMR_FULL_SYNC_DAYS: env.positiveInt(90).pipe(z.number().max(730)),
  },
);

export type EmrGatewayConfig = z.output<typeof configSchema>;

export function loadServiceConfig(): EmrGatewayConfig {
  return loadConfigOrExit(SERVICE_NAME, configSchema);
}
