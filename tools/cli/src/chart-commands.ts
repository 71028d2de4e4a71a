import type { Command } from 'commander';
import { call, sitePath } from './emr-commands';
import { printJson } from './output';
import { siteRead } from './site-reads';

/**
 * `cloud-connect emr held|release`: documents and notes waiting for a site admin to pick the
 * patient's chart (no chart, or several, matched), and their release into the chart picked.
 */
export function registerChartCommands(program: Command): void {
  const emr = program.commands.find((c) => c.name() === 'emr');
  if (!emr) throw new Error('the emr command group must be registered first');
  siteRead(
    emr,
    'held',
    'commands waiting for you to pick the patient (nothing was written to any chart)',
    'emr-gateway',
    '/emr/commands/held',
  );
  emr
    .command('release')
    .description("write a held command to the chart you picked (the EMR's patient id)")
    .requiredOption('--site <n>', 'site number')
    .requiredOption('--command <id>', 'command id')
    .requiredOption('--patient <id>', "the EMR's id of the patient's chart")
    .action(async (options: { site: string; command: string; patient: string }) =>
      printJson(
        await call(
          'POST',
          sitePath(options.site, `/commands/${encodeURIComponent(options.command)}/release`),
          {
            patientId: options.patient,
          },
        ),
      ),
    );
}
