import type { Command } from 'commander';
import { adminCall, siteNumber } from './api';
import { printJson } from './output';
import { readSecret } from './secrets';

/**
 * `sek store|view|replace|remove|restore|approve-destroy|destroy --site N`: a site's Shared Encryption Key through the vault
 * service's API, as the signed-in site admin (these need a sign-in within the last 5 minutes).
 * The SEK comes from --sek-file, piped stdin or a prompt without echo, never from argv.
 */
interface SekOptions {
  site: string;
  sekFile?: string;
}

export function registerSekCommands(program: Command): void {
  const sek = program
    .command('sek')
    .description("a site's Shared Encryption Key in the vault (the SEK from --sek-file, stdin or a prompt)");
  const path = (site: string): string => `/sites/${siteNumber(site)}/sek`;
  const withSite = (command: Command): Command => command.requiredOption('--site <n>', 'site number');
  const withSek = (command: Command): Command =>
    withSite(command).option('--sek-file <path>', 'read the SEK (base64) from the first line of this file');

  withSek(sek.command('store').description('store the SEK of a site that has none')).action(
    async (o: SekOptions) => {
      const value = await readSecret('SEK (base64): ', o.sekFile);
      printJson(await adminCall('vault', 'POST', path(o.site), { sek: value }));
    },
  );
  withSek(sek.command('replace').description('replace the SEK (earlier versions stay readable)')).action(
    async (o: SekOptions) => {
      const value = await readSecret('New SEK (base64): ', o.sekFile);
      printJson(await adminCall('vault', 'PUT', path(o.site), { sek: value }));
    },
  );
  withSite(sek.command('view').description('show the SEK (alerts the clinical administrator)')).action(
    async (o: SekOptions) => printJson(await adminCall('vault', 'GET', path(o.site))),
  );
  withSite(
    sek
      .command('remove')
      .description('remove the SEK (recoverable with `sek restore` during the recovery window)'),
  ).action(async (o: SekOptions) => printJson(await adminCall('vault', 'DELETE', path(o.site))));
  for (const [name, route, description] of [
    ['restore', 'restore', 'bring a removed SEK back (before it is destroyed)'],
    [
      'approve-destroy',
      'destroy-approval',
      'approve destroying a removed SEK (an admin other than the remover)',
    ],
    ['destroy', 'destroy', 'destroy a removed SEK for good (after the window, once approved)'],
  ] as const) {
    withSite(sek.command(name).description(description)).action(async (o: SekOptions) =>
      printJson(await adminCall('vault', 'POST', `${path(o.site)}/${route}`)),
    );
  }
}
