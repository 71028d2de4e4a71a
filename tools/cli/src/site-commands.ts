import { Option, type Command } from 'commander';
import { adminCall, api, siteNumber } from './api';
import { printJson } from './output';

interface SiteCreateOptions {
  number: string;
  name: string;
  adminEmail: string;
  clinicalAdminEmail?: string;
  locale: 'en' | 'fr';
  timezone: string;
}

/**
 * `site create` (operator: the vault service's operator API, which runs the same use case, events
 * and audit entry as every registration) and `site show` (a site admin).
 */
export function registerSiteCommands(program: Command): void {
  const site = program.command('site').description('clinic sites');
  site
    .command('create')
    .description('register a site (operator credential): its number, name and admins')
    .requiredOption('--number <n>', 'site number (digits)')
    .requiredOption('--name <name>', 'site name')
    .requiredOption('--admin-email <email>', 'e-mail of the site admin who creates it')
    .option('--clinical-admin-email <email>', 'e-mail of the clinical administrator (receives alerts)')
    .addOption(new Option('--locale <locale>', 'language of the site').choices(['en', 'fr']).default('en'))
    .option('--timezone <tz>', 'IANA time zone of the site', 'America/Toronto')
    .action(async (o: SiteCreateOptions) => {
      const { body } = await api('vault', 'operator', 'POST', '/operator/sites', {
        siteNumber: o.number,
        name: o.name,
        adminEmail: o.adminEmail,
        clinicalAdminEmail: o.clinicalAdminEmail ?? null,
        locale: o.locale,
        timezone: o.timezone,
      });
      printJson(body);
    });
  site
    .command('show')
    .description("a site's record (site admin)")
    .requiredOption('--site <n>', 'site number')
    .action(async (o: { site: string }) =>
      printJson({ site: await adminCall('vault', 'GET', `/admin/sites/${siteNumber(o.site)}`) }),
    );
}
