import type { Command } from 'commander';
import { adminCall, siteNumber } from './api';
import { printJson, readJsonInput } from './output';
import { siteRead } from './site-reads';

/**
 * `cloud-connect reminders policy get|set`, `reminders list` and `schedule list --site N`: the
 * scheduler's admin API (SCHEDULER_URL, default http://127.0.0.1:3004) as the signed-in site admin.
 */
const call = (method: string, path: string, body?: unknown): Promise<unknown> =>
  adminCall('scheduler', method, path, body);
const sitePath = (site: string, rest: string): string => `/admin/sites/${siteNumber(site)}${rest}`;

export function registerSchedulerCommands(program: Command): void {
  const reminders = program.command('reminders').description("a site's patient reminders (scheduler)");
  const policy = reminders.command('policy').description('the reminder policy');
  siteRead(policy, 'get', 'the reminder policy', 'scheduler', '/reminders/policy');
  policy
    .command('set')
    .description('replace the policy with a JSON file (or stdin): {enabled, leadMinutes, channels, ...}')
    .requiredOption('--site <n>', 'site number')
    .option('--file <file>', 'JSON policy (default: stdin)')
    .action(async (o: { site: string; file?: string }) =>
      printJson(await call('PUT', sitePath(o.site, '/reminders/policy'), { policy: readJsonInput(o.file) })),
    );
  reminders
    .command('list')
    .description('reminders and notices: scheduled, sent, cancelled, failed (no contact details)')
    .requiredOption('--site <n>', 'site number')
    .option('--appointment <id>', 'only this appointment')
    .option('--status <status>', 'scheduled | sent | cancelled | failed')
    .action(async (o: { site: string; appointment?: string; status?: string }) => {
      const query = new URLSearchParams();
      if (o.appointment) query.set('appointment', o.appointment);
      if (o.status) query.set('status', o.status);
      const q = query.size > 0 ? `?${query.toString()}` : '';
      printJson(await call('GET', sitePath(o.site, `/reminders${q}`)));
    });
  const schedule = program.command('schedule').description("a site's sync schedules (scheduler)");
  siteRead(schedule, 'list', "the site's sync schedules", 'scheduler', '/schedules');
}
