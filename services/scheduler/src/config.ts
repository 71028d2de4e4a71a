import { env, loadConfigOrExit, serviceEnvSchema } from '@cloud-connect/config';
import { z } from 'zod';

export const SERVICE_NAME = 'scheduler';

const localTime = z
  .string()
  .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'must be a local time HH:MM (00:00 to 23:59)');

export const configSchema = serviceEnvSchema(
  { port: 3004, schema: 'scheduler' },
  {
    /** "Recent" appointment syncs: every 30 minutes for every site. */
    SYNC_RECENT_INTERVAL_MS: env.positiveInt(30 * 60 * 1000).pipe(z.number().min(1000)),
    /** The nightly full sync, at this local time in each site's time zone. */
    SYNC_FULL_LOCAL_TIME: localTime.default('00:00'),
    /** Tests only: a full sync every N ms instead of nightly. */
    SYNC_FULL_INTERVAL_MS: z.coerce.number().int().min(1000).optional(),
    /** How often each replica looks for due schedules and reminders. */
    SCHEDULER_TICK_MS: env.positiveInt(1000).pipe(z.number().min(50).max(60000)),
    /**
     * Length of the "minute" of reminder lead times and quiet hours (tests shorten it so a lead
     * of 1 minute is 1 second). Production: 60000.
     */
    REMINDER_MINUTE_MS: env.positiveInt(60000).pipe(z.number().min(10)),
    /** Base URL patients reach for the "stop reminders" link (the scheduler's public route). */
    PUBLIC_BASE_URL: env.url(['http', 'https']).default('http://127.0.0.1:3004'),
  },
);

export type SchedulerConfig = z.output<typeof configSchema>;

export function loadServiceConfig(): SchedulerConfig {
  return loadConfigOrExit(SERVICE_NAME, configSchema);
}
