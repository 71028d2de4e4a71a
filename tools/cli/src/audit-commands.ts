import type { Command } from 'commander';
import { api, siteNumber } from './api';
import { CliError, printJson } from './output';

interface AuditOptions {
  site: string;
  from?: string;
  to?: string;
  actor?: string;
  action?: string;
  limit?: string;
  csv?: boolean;
}

/** `audit list|verify --site N`: a site's audit trail through the vault service, as the signed-in site admin. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description("a site's tamper-evident audit trail");
  audit
    .command('list')
    .description('entries by time range, actor, action; JSON or CSV')
    .requiredOption('--site <n>', 'site number')
    .option('--from <iso>', 'from this time (inclusive, ISO 8601)')
    .option('--to <iso>', 'up to this time (exclusive, ISO 8601)')
    .option('--actor <actor>', 'only this actor (e.g. user:<id>, service:<name>, operator:<name>)')
    .option('--action <action>', 'only this action (e.g. sek.view)')
    .option('--limit <n>', 'at most this many entries', '1000')
    .option('--csv', 'print CSV instead of JSON')
    .action(async (o: AuditOptions) => {
      const query = new URLSearchParams();
      for (const key of ['from', 'to', 'actor', 'action', 'limit'] as const) {
        const value = o[key];
        if (value) query.set(key, value);
      }
      if (o.csv) query.set('format', 'csv');
      const { body, text } = await api(
        'vault',
        'admin',
        'GET',
        `/sites/${siteNumber(o.site)}/audit?${query.toString()}`,
      );
      if (o.csv) process.stdout.write(text);
      else printJson(body);
    });
  audit
    .command('verify')
    .description(
      'recompute the chain and compare it with its anchor in Vault; exit 1 and name the first bad entry',
    )
    .option('--site <n>', 'site number (with --operator: optional, default every site)')
    .option('--operator', 'as the operator (`cloud-connect login --operator`): any site, or every site')
    .action(async (o: Partial<AuditOptions> & { operator?: boolean }) => {
      let results: VerifyAnswer[];
      let body: unknown;
      if (o.operator) {
        const query = o.site ? `?site=${siteNumber(o.site)}` : '';
        ({ body } = await api('vault', 'operator', 'GET', `/operator/audit/verify${query}`));
        results = (body as { sites: VerifyAnswer[] }).sites;
      } else {
        if (!o.site) throw new CliError('invalid-arguments', '--site is required (or use --operator)');
        ({ body } = await api('vault', 'admin', 'GET', `/sites/${siteNumber(o.site)}/audit/verify`));
        results = [body as VerifyAnswer];
      }
      const broken = results.filter((r) => !r.ok);
      const first = broken[0];
      if (first) {
        const where = (r: VerifyAnswer): string =>
          `the audit chain of site ${r.siteNumber} is broken at entry ${r.brokenAtSeq} (${r.problem}${r.auditId ? `, audit id ${r.auditId}` : ''})`;
        throw new CliError(
          'audit-chain-broken',
          broken.map(where).join('; '),
          1,
          broken.flatMap((r) => [
            ...(results.length > 1 ? [`site=${r.siteNumber}`] : []),
            `brokenAtSeq=${r.brokenAtSeq}`,
            `problem=${r.problem}`,
            `auditId=${r.auditId ?? '(missing)'}`,
          ]),
        );
      }
      printJson(body);
    });
}

interface VerifyAnswer {
  siteNumber: string;
  ok: boolean;
  brokenAtSeq?: number;
  problem?: string;
  auditId?: string | null;
}
