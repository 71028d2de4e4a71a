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
    .description('re-hash the chain; exit 1 and name the first broken link')
    .requiredOption('--site <n>', 'site number')
    .action(async (o: AuditOptions) => {
      const { body } = await api('vault', 'admin', 'GET', `/sites/${siteNumber(o.site)}/audit/verify`);
      const result = body as { ok: boolean; brokenAtSeq: number; problem: string; auditId: string };
      if (!result.ok) {
        throw new CliError(
          'audit-chain-broken',
          `the audit chain of site ${o.site} is broken at entry ${result.brokenAtSeq} (${result.problem}, audit id ${result.auditId})`,
          1,
          [`brokenAtSeq=${result.brokenAtSeq}`, `problem=${result.problem}`, `auditId=${result.auditId}`],
        );
      }
      printJson(body);
    });
}
