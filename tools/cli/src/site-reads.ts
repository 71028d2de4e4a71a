import type { Command } from 'commander';
import { adminCall, siteNumber, type ServiceName } from './api';
import { printJson } from './output';

/**
 * Adds `name --site <n>` to `parent`: prints what `service` answers the signed-in site admin to
 * GET /admin/sites/<n><path>.
 */
export function siteRead(
  parent: Command,
  name: string,
  description: string,
  service: ServiceName,
  path: string,
): Command {
  return parent
    .command(name)
    .description(description)
    .requiredOption('--site <n>', 'site number')
    .action(async (o: { site: string }) =>
      printJson(await adminCall(service, 'GET', `/admin/sites/${siteNumber(o.site)}${path}`)),
    );
}
